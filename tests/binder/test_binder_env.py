"""Build the Binder environment in a fresh virtual environment and run every Binder lab in it, each under 2 GB.

mybinder.org builds images with repo2docker, which needs Docker; this machine has none. The next best proof: do what
repo2docker does with ``binder/`` (install requirements.txt, run postBuild, start through ``binder/start``) in a new
venv with an empty models folder, then run each lab that :mod:`edgeagents.binder` says fits Binder, and its
solutions (checks strict), with ``python -m edgeagents.labrun``, which measures the kernel's peak memory and records
the run for the README's lab table. Two notebooks run at a time, as in ``make test-labs``.
Run with ``pytest -m binder tests/binder`` (``make binder-check``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edgeagents.binder import BINDER_RAM_MB, notebooks
from edgeagents.labrun import load_timings

pytestmark = pytest.mark.binder
REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = notebooks(on_binder_only=True, labs_dir=REPO / "labs")


def run(cmd: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=REPO, env=env, text=True, capture_output=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("binder")
    venv = tmp / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "EDGEAGENTS_"))},
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "EDGEAGENTS_MODELS_DIR": str(tmp / "models"),  # empty: postBuild must prepare the model
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if os.environ.get("EDGEAGENTS_HOME"):  # where the run is recorded; binder/start sets the threads
        env["EDGEAGENTS_HOME"] = os.environ["EDGEAGENTS_HOME"]
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], env, 600)
    run(["bash", "binder/postBuild"], env, 1800)
    assert (tmp / "models" / "gemma-3-270m-q4_k_m.gguf").exists()
    return env


def run_apart(paths: list[Path], run_one, workers: int) -> list[tuple[str, dict]]:
    """Run ``run_one(path)`` on ``workers`` threads, in order, but never a lab beside its own solutions: they share
    files (lab 11's SQLite store) and servers. A free worker takes the first path whose lab is not running."""
    pending, running, done = list(paths), set(), []
    ready = threading.Condition()

    def worker() -> None:
        while True:
            with ready:
                while True:
                    path = next((p for p in pending if p.name[:2] not in running), None)
                    if path is not None or not pending:
                        break
                    ready.wait()
                if path is None:
                    return
                pending.remove(path)
                running.add(path.name[:2])
            try:
                outcome = run_one(path)
            finally:
                with ready:
                    running.discard(path.name[:2])
                    ready.notify_all()
            with ready:
                done.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


@pytest.fixture(scope="module")
def binder_runs(binder_env) -> dict[str, dict]:
    """Every Binder notebook run in the Binder environment, longest first so two workers finish together."""
    previous = load_timings().get("binder", {})
    ordered = sorted(NOTEBOOKS, key=lambda p: -float(previous.get(p.stem, {}).get("seconds", 0)))

    def labrun(path: Path) -> tuple[str, dict]:
        env = {**binder_env, **({"EDGEAGENTS_STRICT_CHECKS": "1"} if path.parent.name == "solutions" else {})}
        proc = subprocess.run(
            ["binder/start", "python", "-m", "edgeagents.labrun", "--section", "binder",
             "--max-rss-mb", str(BINDER_RAM_MB), str(path.relative_to(REPO))],
            cwd=REPO, env=env, text=True, capture_output=True, timeout=3600,
        )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {"ok": False, "error": proc.stderr[-4000:]}
        return path.stem, {**result, "returncode": proc.returncode}

    results = dict(run_apart(ordered, labrun, workers=2))
    for stem, r in results.items():
        print(f"[binder] {stem}: {r.get('seconds', '?')} s, peak {r.get('peak_rss_mb', '?')} MB, ok={r.get('ok')}")
    return results


def test_binder_environment_has_every_binder_lab():
    assert {p.name[:2] for p in NOTEBOOKS} >= {"00", "01", "11"}
    assert all((REPO / "labs" / "solutions" / f"{p.stem}_solutions.ipynb") in NOTEBOOKS
               for p in NOTEBOOKS if p.parent.name == "labs")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_binder_lab_runs_under_binders_memory(binder_runs, path):
    result = binder_runs[path.stem]
    assert result["ok"], f"{path.name} failed on Binder:\n{result.get('error', '')}"
    assert result["peak_rss_mb"] <= BINDER_RAM_MB, (
        f"{path.name} peaked at {result['peak_rss_mb']} MB, over Binder's {BINDER_RAM_MB} MB")
    assert result["returncode"] == 0


def test_run_apart_never_runs_a_lab_beside_its_solutions(tmp_path):
    paths = [tmp_path / name for name in ("11_a.ipynb", "11_a_solutions.ipynb", "00_b.ipynb", "00_b_solutions.ipynb",
                                           "05_c.ipynb")]
    active, overlaps = [], []
    lock = threading.Lock()

    def fake(path: Path) -> tuple[str, dict]:
        with lock:
            if path.name[:2] in active:
                overlaps.append(path.name)
            active.append(path.name[:2])
        time.sleep(0.05)
        with lock:
            active.remove(path.name[:2])
        return path.stem, {}

    done = run_apart(paths, fake, workers=2)
    assert sorted(stem for stem, _ in done) == sorted(p.stem for p in paths) and overlaps == []
