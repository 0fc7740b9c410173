"""Signed image links: valid until they expire, for their own id only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from switchyard.engine.images.links import ImageLinks


def _query(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["expires"][0], query["signature"][0]


def test_a_link_is_valid_for_its_id_until_it_expires() -> None:
    links = ImageLinks(b"secret")
    url = links.url("http://host:8000/", "img_abc", 2_000)
    assert url.startswith("http://host:8000/v1/images/files/img_abc/content?expires=2000&signature=")
    expires, signature = _query(url)
    assert links.valid("img_abc", expires, signature, now=1_999)
    assert not links.valid("img_abc", expires, signature, now=2_000)
    assert not links.valid("img_abd", expires, signature, now=1_000)
    assert not links.valid("img_abc", "2001", signature, now=1_000)
    assert not links.valid("img_abc", "-5", signature, now=1_000)
    assert not ImageLinks(b"other").valid("img_abc", expires, signature, now=1_000)
