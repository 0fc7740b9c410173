"""Assembling the packaged model from its chunks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from switchyard.core.errors import ErrorKind
from switchyard.providers.local.model_files import (
    DEFAULT_MODEL,
    ModelUnavailable,
    PackagedModel,
    assemble,
    ensure_model,
    locate_chunks,
    marker_path,
)


def make_chunks(tmp_path: Path, contents: list[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(contents):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


CONTENTS = [b"GGUF" + b"a" * 5000, b"b" * 7000, b"c" * 10]
GOOD_SHA = hashlib.sha256(b"".join(CONTENTS)).hexdigest()


def test_assemble_concatenates_verifies_and_marks(tmp_path: Path) -> None:
    chunks = make_chunks(tmp_path, CONTENTS)
    target = tmp_path / "models" / "m.gguf"
    assert assemble(chunks, target, GOOD_SHA) == target
    assert target.read_bytes() == b"".join(CONTENTS)
    assert marker_path(target).read_text().split()[0] == GOOD_SHA
    assert {p.name for p in target.parent.iterdir()} == {"m.gguf", "m.gguf.sha256"}


def test_corrupt_chunk_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    corrupted = [CONTENTS[0], b"b" * 6999 + b"X", CONTENTS[2]]
    chunks = make_chunks(tmp_path, corrupted)
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelUnavailable) as info:
        assemble(chunks, target, GOOD_SHA)
    assert info.value.kind is ErrorKind.SERVER
    assert "sha256" in info.value.message
    assert list(target.parent.iterdir()) == []


def test_missing_packages_name_the_pip_command() -> None:
    model = PackagedModel(
        filename="x.gguf",
        sha256=GOOD_SHA,
        size=1,
        chunks=(("switchyard_no_such_pkg_a", "data/a.bin"), ("switchyard_no_such_pkg_b", "d.bin")),
        version="1.0",
    )
    with pytest.raises(ModelUnavailable) as info:
        locate_chunks(model)
    assert "pip install switchyard-no-such-pkg-a==1.0 switchyard-no-such-pkg-b==1.0" in str(info.value)


def test_existing_file_needs_marker_to_be_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = make_chunks(tmp_path, CONTENTS)
    size = sum(len(c) for c in CONTENTS)
    model = PackagedModel(filename="m.gguf", sha256=GOOD_SHA, size=size, chunks=())
    calls: list[int] = []
    monkeypatch.setattr(
        "switchyard.providers.local.model_files.locate_chunks",
        lambda _m: calls.append(1) or chunks,
    )
    target = ensure_model(model, tmp_path)
    assert calls == [1]
    ensure_model(model, tmp_path)  # trusted via the marker: no re-assembly
    assert calls == [1]
    # Same size, wrong content, no marker: rebuilt rather than trusted.
    marker_path(target).unlink()
    target.write_bytes(b"z" * size)
    ensure_model(model, tmp_path)
    assert calls == [1, 1]
    assert target.read_bytes() == b"".join(CONTENTS)


def test_default_model_declares_six_chunks_in_order() -> None:
    assert [r for _, r in DEFAULT_MODEL.chunks] == [f"data/part{n:02d}.bin" for n in range(1, 7)]
    assert DEFAULT_MODEL.size == 491_400_064


def test_assembly_reports_its_progress(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    chunks = make_chunks(tmp_path, CONTENTS)
    with caplog.at_level("INFO", logger="switchyard.providers.local.model_files"):
        assemble(chunks, tmp_path / "models" / "m.gguf", GOOD_SHA)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("assembling m.gguf")]
    percents = [int(line.split(": ")[1].split("%")[0]) for line in lines[1:]]
    assert percents == sorted(percents) and percents[-1] == 100
    assert len(percents) >= 2  # it moved more than once on the way
