"""Where the vendors' specs are: ``shared/spec`` beside the checkout, or $SWITCHYARD_SPEC_DIR."""

from __future__ import annotations

import os
from pathlib import Path

SPEC_DIR = Path(os.environ.get("SWITCHYARD_SPEC_DIR", Path(__file__).resolve().parents[2] / "shared" / "spec"))
