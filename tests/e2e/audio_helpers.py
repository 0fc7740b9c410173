"""Shared by the audio end-to-end tests: words of a transcript, raw form posts, and what
FFmpeg (Debian's, not the PyAV that Switchyard encodes with) makes of an audio file."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.server import MASTER_KEY, LiveServer

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def post_form(server: LiveServer, path: str, data: dict[str, Any],
              files: dict[str, tuple[str, bytes, str]] | None = None, key: str = MASTER_KEY) -> httpx.Response:
    """A multipart form (also when it has no file part, which httpx would send url-encoded)."""
    parts: list[tuple[str, Any]] = [(name, (None, str(value))) for name, value in data.items()]
    parts.extend((name, upload) for name, upload in (files or {}).items())
    return httpx.post(server.url + path, files=parts, headers={"authorization": f"Bearer {key}"}, timeout=120)


def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    assert found, "ffmpeg is needed (scripts/install-audio-tools.sh installs Debian's)"
    return found


def decoded_seconds(path: Path, raw_pcm: bool = False) -> float:
    """Seconds of audio FFmpeg decodes from ``path`` (counted from the samples, not the header)."""
    source = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if raw_pcm else []
    result = subprocess.run([ffmpeg(), "-v", "error", *source, "-i", str(path), "-f", "s16le", "-ac", "1",
                             "-ar", "16000", "-"], capture_output=True, check=False)
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()
    return len(result.stdout) / 2 / 16000


def codec_name(path: Path) -> str:
    result = subprocess.run([shutil.which("ffprobe") or "ffprobe", "-v", "error", "-select_streams", "a:0",
                             "-show_entries", "stream=codec_name", "-of", "default=nw=1:nk=1", str(path)],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def ledger_entry(server: LiveServer, request_id: str, wait: float = 20.0) -> dict[str, Any]:
    """The ledger entry of one request, once the batched writer has written it."""
    from tests.e2e import ledger

    deadline = time.monotonic() + wait
    while True:
        found = ledger.entries(server, request_id=request_id)
        if found:
            assert len(found) == 1, found
            return found[0]
        assert time.monotonic() < deadline, f"no ledger entry for {request_id}"
        time.sleep(0.05)
