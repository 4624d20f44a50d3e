"""Install a real Ollama server from PyPI, for learners (and CI) that have no Ollama of their own.

Run by ``make ollama-server`` (which ``make setup`` calls)::

    python -m edgeagents.runtimes.ollama.install          # idempotent: a verified install is kept
    python -m edgeagents.runtimes.ollama.install --force  # rebuild
    python -m edgeagents.runtimes.ollama.install --require  # exit 1 when it cannot be installed here (``make test``)

The server is optional: off Linux x86_64, or without a C compiler, the installer says in one
line what it unlocks and how to get it instead (a stock Ollama) and exits 0, so ``make lab``
still opens the course. ``EDGEAGENTS_PRETEND_PLATFORM=Darwin/arm64`` (any ``system/machine``)
makes it act as if it ran there, which is how the tests check that path.

Debian and npm ship no Ollama server; on PyPI the only real one is Intel's IPEX-LLM build of
Ollama 0.9.3 inside ``bigdl-core-cpp``. That build always asks ggml for its Intel GPU (SYCL)
backend, so on a CPU-only machine three functions of ``libggml-sycl.so`` are replaced by a
small C shim (``ggml_sycl_cpu_shim.c``, compiled here with gcc) that hands back ggml's CPU
backend. Everything else is the unmodified binary and its Intel runtime libraries.

What ends up under ``$EDGEAGENTS_HOME/ollama-server``::

    prefix/            the pinned wheels, installed with --no-deps (their declared deps pull torch)
    bin/ollama         the server binary (a copy of bigdl's ollama-lib; its RPATH is $ORIGIN)
    bin/lib*.so        relative links to the build's ggml/llama libraries
    bin/libggml-sycl.so  the compiled shim
    install.json       what was installed and verified

The folder is built in a temporary sibling and renamed into place, so an interrupted install
never leaves a half-built server behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError
from edgeagents.settings import load_settings

OLLAMA_VERSION = "0.9.3"
# Pinned: the server build and the Intel runtime libraries it links against (installed with --no-deps).
PACKAGES = (
    "bigdl-core-cpp==2.7.0b20260110",
    "intel-sycl-rt==2025.0.5",
    "intel-cmplr-lib-rt==2025.0.5",
    "intel-cmplr-lib-ur==2025.0.5",
    "umf==0.9.1",
    "intel-openmp==2025.0.5",
)
# The shim is checksummed into the install stamp: editing it (even a comment) rebuilds every cached server.
SHIM_SOURCE = Path(__file__).with_name("ggml_sycl_cpu_shim.c")
STAMP = "install.json"
# bigdl-core-cpp ships its Ollama binary for this platform only.
SUPPORTED_PLATFORM = ("Linux", "x86_64")
PRETEND_ENV = "EDGEAGENTS_PRETEND_PLATFORM"
OWN_OLLAMA_HINT = ("Install Ollama from its site and run `ollama serve`; "
                   "lab 09 uses it at OLLAMA_HOST (default 127.0.0.1:11434).")


@dataclass(frozen=True)
class ServerInstall:
    """A verified server install: the binary and the environment it needs."""

    root: Path
    binary: Path
    lib_dir: Path | None
    version: str
    kind: str  # "pypi-ipex" (this installer) or "system" (a stock Ollama)

    def env(self) -> dict[str, str]:
        """Extra environment variables the binary needs."""
        if self.lib_dir is None:
            return {}
        old = os.environ.get("LD_LIBRARY_PATH", "")
        return {"LD_LIBRARY_PATH": f"{self.lib_dir}{os.pathsep}{old}" if old else str(self.lib_dir)}


def install_dir() -> Path:
    return load_settings().home / "ollama-server"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp_key() -> dict[str, object]:
    return {"packages": list(PACKAGES), "shim_sha256": _sha256(SHIM_SOURCE), "ollama_version": OLLAMA_VERSION}


def _run_version(binary: Path, env: dict[str, str], timeout: float = 30.0) -> str:
    proc = subprocess.run(
        [str(binary), "--version"], env={**os.environ, **env, "OLLAMA_HOST": "127.0.0.1:1"},
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    return proc.stdout + proc.stderr


def installed(root: Path | None = None) -> ServerInstall | None:
    """The project's server install if it is present and matches the pins (cheap check, no process)."""
    root = root or install_dir()
    try:
        stamp = json.loads((root / STAMP).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if {k: stamp.get(k) for k in _stamp_key()} != _stamp_key():
        return None
    binary, lib_dir, shim = root / "bin" / "ollama", root / "prefix" / "lib", root / "bin" / "libggml-sycl.so"
    if not (binary.is_file() and shim.is_file() and lib_dir.is_dir()):
        return None
    return ServerInstall(root, binary, lib_dir, OLLAMA_VERSION, "pypi-ipex")


def current_platform() -> tuple[str, str]:
    """(system, machine) as ``platform`` names them, or as ``$EDGEAGENTS_PRETEND_PLATFORM`` pretends."""
    pretend = os.environ.get(PRETEND_ENV, "").strip()
    if not pretend:
        return platform.system(), platform.machine()
    system, sep, machine = pretend.partition("/")
    if not (sep and system.strip() and machine.strip()) or "/" in machine:
        raise InvalidRequestError(f"{PRETEND_ENV}={pretend!r} is not 'system/machine'.",
                                  hint=f"Set it like {PRETEND_ENV}=Darwin/arm64, or unset it.")
    return system.strip(), machine.strip()


def find_compiler() -> str | None:
    """The C compiler that builds the shim: gcc, else cc, from PATH."""
    return shutil.which("gcc") or shutil.which("cc")


def check_buildable() -> str:
    """The C compiler to use; RuntimeUnavailableError when the course's server cannot be built here."""
    system, machine = current_platform()
    if (system, machine) != SUPPORTED_PLATFORM:
        raise RuntimeUnavailableError(
            f"The course's Ollama server is built for Linux x86_64 only; this is {system} {machine}.",
            hint=OWN_OLLAMA_HINT)
    cc = find_compiler()
    if cc is None:
        raise RuntimeUnavailableError(
            "No C compiler (gcc or cc) on PATH to build the course's Ollama server shim.",
            hint=f"Install gcc (Debian/Ubuntu: apt-get install gcc), or: {OWN_OLLAMA_HINT}")
    return cc


def _log(msg: str) -> None:
    print(f"[ollama-server] {msg}", flush=True)


def install(force: bool = False, *, quiet: bool = False) -> ServerInstall:
    """Install (or verify) the server under ``$EDGEAGENTS_HOME/ollama-server``. Idempotent."""
    log = (lambda _m: None) if quiet else _log
    root = install_dir()
    current = None if force else installed(root)
    if current is not None:
        out = _run_version(current.binary, current.env())
        if OLLAMA_VERSION in out:
            log(f"already installed and verified: {current.binary} (Ollama {OLLAMA_VERSION})")
            return current
        log("existing install fails its check; rebuilding")
    cc = check_buildable()
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".ollama-server-"))
    try:
        t0 = time.monotonic()
        log(f"installing {', '.join(PACKAGES)} (--no-deps) into {tmp / 'prefix'}")
        pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--ignore-installed",
               "--disable-pip-version-check", "--prefix", str(tmp / "prefix"), *PACKAGES]
        proc = subprocess.run(pip, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeUnavailableError(
                f"pip could not install the Ollama server wheels:\n{proc.stderr[-1500:]}",
                hint="Check the network access to PyPI, then run `make ollama-server` again.",
            )
        found = sorted((tmp / "prefix").glob("lib/python*/site-packages/bigdl/cpp/libs/ollama/ollama-lib"))
        if not found:
            raise RuntimeUnavailableError("bigdl-core-cpp installed, but it holds no ollama-lib binary.")
        libs = found[0].parent
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        try:
            os.link(found[0], bin_dir / "ollama")  # $ORIGIN must be bin/, so a real file, not a link
        except OSError:
            shutil.copy2(found[0], bin_dir / "ollama")
        for lib in libs.glob("*.so"):
            if lib.name != "libggml-sycl.so":
                (bin_dir / lib.name).symlink_to(os.path.relpath(lib, bin_dir))
        log(f"compiling the SYCL->CPU shim with {cc}")
        gcc = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(bin_dir / "libggml-sycl.so"), str(SHIM_SOURCE)],
                             capture_output=True, text=True)
        if gcc.returncode != 0:
            raise RuntimeUnavailableError(f"gcc failed on the shim:\n{gcc.stderr[-1500:]}")
        candidate = ServerInstall(tmp, bin_dir / "ollama", tmp / "prefix" / "lib", OLLAMA_VERSION, "pypi-ipex")
        out = _run_version(candidate.binary, candidate.env())
        if OLLAMA_VERSION not in out:
            raise RuntimeUnavailableError(f"The installed server does not start:\n{out[-1500:]}")
        (tmp / STAMP).write_text(json.dumps({**_stamp_key(), "installed_at": time.time()}, indent=1))
        if root.exists():
            old = root.with_name(f".ollama-server-old-{os.getpid()}")
            root.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(root)
        log(f"installed and verified in {time.monotonic() - t0:.0f} s: {root / 'bin' / 'ollama'}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    result = installed(root)
    assert result is not None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if a verified install exists")
    parser.add_argument("--require", action="store_true",
                        help="exit 1 when the server cannot be installed here (instead of skipping it)")
    args = parser.parse_args(argv)
    try:
        install(force=args.force)
    except InvalidRequestError as exc:
        print(exc, file=sys.stderr)
        return 2
    except RuntimeUnavailableError as exc:
        if args.require:
            print(exc, file=sys.stderr)
            return 1
        reason, _, details = exc.message.partition("\n")
        if details:  # a build that failed (not a machine it cannot run on): keep what went wrong
            print(details, file=sys.stderr)
        _log(f"skipped: {reason.rstrip(':.')}. It is optional (lab 09). {exc.hint}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
