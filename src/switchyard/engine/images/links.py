"""Signed, expiring links to stored images: ``/v1/images/files/{id}/content?expires=…&signature=…``.

The signature is an HMAC of the image id and the expiry under a key derived from the
server secret, so a link works without an API key until it expires (as OpenAI's image
URLs do) and cannot be made for another id or a later time."""

from __future__ import annotations

import hashlib
import hmac
import time

PATH = "/v1/images/files/{image_id}/content"


class ImageLinks:
    def __init__(self, server_secret: bytes) -> None:
        self._key = hmac.new(server_secret, b"switchyard image links v1", hashlib.sha256).digest()

    def _signature(self, image_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{image_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, base_url: str, image_id: str, expires: int) -> str:
        path = PATH.format(image_id=image_id)
        return f"{base_url.rstrip('/')}{path}?expires={expires}&signature={self._signature(image_id, expires)}"

    def valid(self, image_id: str, expires: str, signature: str, now: float | None = None) -> bool:
        if not expires.isdigit() or int(expires) <= (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._signature(image_id, int(expires)), signature)
