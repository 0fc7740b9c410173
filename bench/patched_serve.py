"""Experiment only: ``switchyard serve`` with one upstream-client change applied
in-process, to measure what a fix in src/ would buy.  Not used by gateway.py
unless ``--experiments`` is given.

    python bench/patched_serve.py nopoll  serve --config ... --port ...
    python bench/patched_serve.py httpx2  serve --config ... --port ...

nopoll  httpcore's idle-connection check without its poll() of every pooled socket
        (``has_expired`` then only looks at the keep-alive deadline).
httpx2  the upstream client built with httpx2 (pydantic's httpx fork, already in
        the venv as a dependency of the openai SDK) instead of httpx.
"""

from __future__ import annotations

import sys
import time


def nopoll() -> None:
    from httpcore._async import http11

    def has_expired(self: http11.AsyncHTTP11Connection) -> bool:
        return self._expire_at is not None and time.monotonic() > self._expire_at

    http11.AsyncHTTP11Connection.has_expired = has_expired  # type: ignore[method-assign]


def use_httpx2() -> None:
    import httpx2

    from switchyard.providers import http_upstream, openai

    def make_client(config):  # type: ignore[no-untyped-def]
        timeout = httpx2.Timeout(config.timeout, connect=config.connect_timeout)
        limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=200)
        return httpx2.AsyncClient(timeout=timeout, limits=limits)

    http_upstream.make_client = make_client
    openai.make_client = make_client


def main() -> None:
    variant, argv = sys.argv[1], sys.argv[2:]
    {"nopoll": nopoll, "httpx2": use_httpx2}[variant]()
    from switchyard.cli import main as cli

    sys.exit(cli(argv))


if __name__ == "__main__":
    main()
