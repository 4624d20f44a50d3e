"""What is inside a GGUF file: its metadata and its tensor table, read with the ``gguf`` package.

A GGUF file is a header of key/value metadata (architecture, sizes, tokenizer, chat
template...) followed by a table of tensors (name, shape, storage type) and their data.

>>> from edgeagents.models.gguf_info import read_gguf
>>> info = read_gguf("gemma-3-270m-q4_k_m.gguf")
>>> info.architecture, info.block_count, info.n_params
('gemma3', 18, 268098176)

``gguf.GGUFReader`` parses every field, including the 262,144 tokenizer strings of the
course model: that takes seconds and several hundred MB. :func:`gguf_info` therefore reads
the file once in a child process and caches the small summary as JSON next to the model;
:func:`read_gguf` reads it in this process (what the tests do).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeagents.errors import CorruptModelError, ModelNotFoundError, RuntimeUnavailableError

CACHE_VERSION = 1

# arrays too long to be worth showing; we report their length instead
_BIG_ARRAYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges")


@dataclass(frozen=True)
class TensorRow:
    """One entry of the tensor table."""

    name: str
    type: str
    shape: tuple[int, ...]
    n_params: int
    n_bytes: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.n_bytes / self.n_params if self.n_params else 0.0


@dataclass(frozen=True)
class GGUFInfo:
    """The facts a learner needs about one GGUF file."""

    path: str
    file_size: int
    gguf_version: int
    name: str
    architecture: str
    file_type: int | None
    block_count: int | None
    embedding_length: int | None
    feed_forward_length: int | None
    head_count: int | None
    head_count_kv: int | None
    key_length: int | None
    context_length: int | None
    sliding_window: int | None
    vocab_size: int
    bos_token_id: int | None
    eos_token_id: int | None
    padding_token_id: int | None
    add_bos_token: bool | None
    has_chat_template: bool
    n_tensors: int
    n_params: int
    tensor_types: dict[str, int]
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: tuple[TensorRow, ...] = ()

    @property
    def bits_per_weight(self) -> float:
        """Average bits per parameter of the whole file (header included)."""
        return 8 * self.file_size / self.n_params if self.n_params else 0.0

    def summary_rows(self) -> list[dict[str, Any]]:
        """Key facts as (field, value) rows, for a pandas table."""
        facts = {
            "name": self.name,
            "architecture": self.architecture,
            "file size (MB)": round(self.file_size / 1e6, 1),
            "parameters": f"{self.n_params:,}",
            "average bits per weight": round(self.bits_per_weight, 2),
            "blocks (layers)": self.block_count,
            "embedding width": self.embedding_length,
            "feed-forward width": self.feed_forward_length,
            "attention heads": self.head_count,
            "KV heads": self.head_count_kv,
            "head dimension": self.key_length,
            "context length (trained)": self.context_length,
            "sliding window": self.sliding_window,
            "vocabulary size": f"{self.vocab_size:,}",
            "BOS / EOS / PAD ids": f"{self.bos_token_id} / {self.eos_token_id} / {self.padding_token_id}",
            "adds BOS": self.add_bos_token,
            "chat template": "present" if self.has_chat_template else "none (a base model)",
            "tensors": self.n_tensors,
        }
        return [{"field": k, "value": v} for k, v in facts.items()]

    def tensor_rows(self) -> list[dict[str, Any]]:
        """The tensor table as dicts (``pandas.DataFrame(info.tensor_rows())``)."""
        return [{**asdict(t), "shape": "×".join(map(str, t.shape)), "bits_per_weight": round(t.bits_per_weight, 2)} for t in self.tensors]

    def type_rows(self) -> list[dict[str, Any]]:
        """Parameters and bytes per storage type."""
        agg: dict[str, dict[str, Any]] = {}
        for t in self.tensors:
            row = agg.setdefault(t.type, {"type": t.type, "tensors": 0, "n_params": 0, "n_bytes": 0})
            row["tensors"] += 1
            row["n_params"] += t.n_params
            row["n_bytes"] += t.n_bytes
        return sorted(agg.values(), key=lambda r: -r["n_bytes"])

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["tensors"] = [asdict(t) for t in self.tensors]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GGUFInfo:
        d = dict(d)
        d["tensors"] = tuple(TensorRow(t["name"], t["type"], tuple(t["shape"]), t["n_params"], t["n_bytes"]) for t in d["tensors"])
        return cls(**d)


def _scalar(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


def read_gguf(path: str | os.PathLike[str]) -> GGUFInfo:
    """Read a GGUF file's metadata and tensor table in this process with ``gguf.GGUFReader``."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelNotFoundError(f"No GGUF file at {p}.")
    try:
        from gguf import GGUFReader
    except ImportError:
        raise RuntimeUnavailableError("The gguf package is not installed.", hint="pip install gguf  (or `make setup`)") from None
    try:
        reader = GGUFReader(str(p))
    except Exception as exc:  # noqa: BLE001 - the gguf package raises ValueError, struct errors... on a bad file
        raise CorruptModelError(f"{p} is not a readable GGUF file ({type(exc).__name__}: {exc}).") from None

    meta: dict[str, Any] = {}
    for key, fld in reader.fields.items():
        if key in _BIG_ARRAYS:
            meta[key] = f"<array of {len(fld.data)}>"
            continue
        try:
            value = fld.contents()
        except Exception:  # noqa: BLE001 - an unusual field type: show that it exists
            value = "<unreadable>"
        if key == "tokenizer.chat_template" and isinstance(value, str):
            value = value[:200] + ("…" if len(value) > 200 else "")
        meta[key] = _scalar(value)

    arch = str(meta.get("general.architecture", "unknown"))

    def a(name: str) -> Any:
        return meta.get(f"{arch}.{name}")

    tokens = reader.fields.get("tokenizer.ggml.tokens")
    rows = tuple(
        TensorRow(
            name=t.name,
            type=t.tensor_type.name,
            shape=tuple(int(x) for x in t.shape),
            n_params=int(t.n_elements),
            n_bytes=int(t.n_bytes),
        )
        for t in reader.tensors
    )
    return GGUFInfo(
        path=str(p),
        file_size=p.stat().st_size,
        gguf_version=int(meta.get("GGUF.version", 0)),
        name=str(meta.get("general.name", p.stem)),
        architecture=arch,
        file_type=meta.get("general.file_type"),
        block_count=a("block_count"),
        embedding_length=a("embedding_length"),
        feed_forward_length=a("feed_forward_length"),
        head_count=a("attention.head_count"),
        head_count_kv=a("attention.head_count_kv"),
        key_length=a("attention.key_length"),
        context_length=a("context_length"),
        sliding_window=a("attention.sliding_window"),
        vocab_size=len(tokens.data) if tokens is not None else int(a("vocab_size") or 0),
        bos_token_id=meta.get("tokenizer.ggml.bos_token_id"),
        eos_token_id=meta.get("tokenizer.ggml.eos_token_id"),
        padding_token_id=meta.get("tokenizer.ggml.padding_token_id"),
        add_bos_token=meta.get("tokenizer.ggml.add_bos_token"),
        has_chat_template="tokenizer.chat_template" in meta,
        n_tensors=len(rows),
        n_params=sum(t.n_params for t in rows),
        tensor_types=dict(Counter(t.type for t in rows).most_common()),
        metadata=meta,
        tensors=rows,
    )


def _cache_path(p: Path) -> Path:
    return p.with_name(p.name + ".info.json")


def gguf_info(path: str | os.PathLike[str], *, isolated: bool = True, use_cache: bool = True) -> GGUFInfo:
    """Like :func:`read_gguf`, but cheap for a notebook kernel.

    With ``isolated`` the file is parsed in a child Python process (its memory is freed when
    it exits); with ``use_cache`` the result is kept as ``<file>.info.json`` and reused while
    the file's size and modification time are unchanged.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelNotFoundError(f"No GGUF file at {p}.")
    stat = p.stat()
    key = {"version": CACHE_VERSION, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache = _cache_path(p)
    if use_cache and cache.exists():
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == key:
                return GGUFInfo.from_json(data["info"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    if isolated:
        proc = subprocess.run(
            [sys.executable, "-m", "edgeagents.models.gguf_info", str(p)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH")]))},
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CorruptModelError(f"Reading {p} failed: {last}")
        info = GGUFInfo.from_json(json.loads(proc.stdout))
    else:
        info = read_gguf(p)
    if use_cache:
        try:
            cache.write_text(json.dumps({"key": key, "info": info.to_json()}))
        except OSError:  # a read-only models folder: fine, just slower next time
            pass
    return info


def _main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m edgeagents.models.gguf_info FILE.gguf", file=sys.stderr)
        return 2
    print(json.dumps(read_gguf(argv[0]).to_json(), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
