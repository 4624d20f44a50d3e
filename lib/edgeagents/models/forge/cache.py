"""Where the forge puts what it builds, and how it knows a build is still good.

Every artefact (a GGUF file or a model folder) gets a small JSON *stamp* beside it: what it was
built from (the source's sha256), with which parameters, and what came out (size and sha256 of
each file). A build is skipped when the stamp matches; a missing, changed or truncated output
is rebuilt. Outputs are written to a temporary name and renamed at the end, so an interrupted
or failed build never leaves a half-written model behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgeagents.settings import load_settings

STAMP_VERSION = 1
DIR_STAMP = "forge-stamp.json"


def forge_dir() -> Path:
    """``$EDGEAGENTS_HOME/forge``: the root of every conversion of the course model."""
    return load_settings().home / "forge"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


def stamp_path(artefact: Path) -> Path:
    artefact = Path(artefact)
    return artefact / DIR_STAMP if artefact.is_dir() or not artefact.suffix else artefact.with_name(artefact.name + ".forge.json")


def _files(artefact: Path) -> list[Path]:
    if artefact.is_dir():
        return sorted(p for p in artefact.rglob("*") if p.is_file() and p.name != DIR_STAMP)
    return [artefact]


def describe_output(artefact: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of each file of an artefact (relative names for a folder)."""
    artefact = Path(artefact)
    out = {}
    for f in _files(artefact):
        name = f.relative_to(artefact).as_posix() if artefact.is_dir() else f.name
        out[name] = {"size": f.stat().st_size, "sha256": sha256_file(f)}
    return out


def write_stamp(artefact: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    """Record what ``artefact`` was built from and what it contains."""
    stamp = {"version": STAMP_VERSION, "inputs": inputs, "output": describe_output(artefact)}
    target = stamp_path(artefact)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(stamp, indent=2, sort_keys=True))
    tmp.replace(target)
    return stamp


def read_stamp(artefact: Path) -> dict[str, Any] | None:
    try:
        return json.loads(stamp_path(artefact).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_fresh(artefact: Path, inputs: dict[str, Any], *, full: bool = False) -> bool:
    """True when ``artefact`` exists, was built from ``inputs`` and is intact.

    The quick check compares every file's size (a truncated file fails it); ``full=True``
    also re-hashes every file.
    """
    artefact = Path(artefact)
    if not artefact.exists():
        return False
    stamp = read_stamp(artefact)
    if not stamp or stamp.get("version") != STAMP_VERSION or stamp.get("inputs") != inputs:
        return False
    recorded = stamp.get("output") or {}
    files = _files(artefact)
    names = {(f.relative_to(artefact).as_posix() if artefact.is_dir() else f.name): f for f in files}
    if set(names) != set(recorded):
        return False
    for name, f in names.items():
        if f.stat().st_size != recorded[name]["size"]:
            return False
        if full and sha256_file(f) != recorded[name]["sha256"]:
            return False
    return True


def output_sha(artefact: Path) -> str:
    """One digest for a whole artefact, from its stamp (used as the *source* key of the next step)."""
    stamp = read_stamp(artefact) or {}
    return hashlib.sha256(json.dumps(stamp.get("output", {}), sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)  # mkstemp makes it private; other tools and users read the models
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``target``; it replaces ``target`` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
    tmp.chmod(0o755)  # mkdtemp makes it private; other tools (servers, SDKs) read this folder
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def progress_bar(total: int | None, desc: str, enabled: bool, unit: str = "it"):  # noqa: ANN201 - tqdm or a no-op
    """A tqdm bar (notebook-aware) or a silent stand-in."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, unit=unit, leave=False)
        except ImportError:
            pass

    class _Null:
        def update(self, n: int = 1) -> None: ...

        def set_postfix_str(self, s: str) -> None: ...

        def close(self) -> None: ...

    return _Null()
