"""Imports point one way: no module of the library imports one from a layer above it, and nothing makes a cycle.

Every ``import`` counts, the ones inside functions too: a lazy import hides a cycle from Python, not from the design.
The layers, bottom up (a module may import its own layer and the ones below):

0. errors, settings, env, events — what everything shares;
1. netguard, measure, viz, check, quiz — small tools;
2. models — the course model, catalog, GGUF facts, the forge;
3. runtimes — the Runtime protocol and its backends;
4. serving — the uvicorn runner;
5. foundry, ollama, vllm, monitoring — the guide's patterns per backend, and the collector over all of them;
6. routing, agents; 6.5 models.finetune (it trains on the agents' tools);
7. capstone;
8. doctor, binder, labrun, labtable; 9. cli and the package's top level.

``KNOWN`` lists the imports that still point up, each with why: they go as the backends move into one package
each (issue 21). A new one fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"

RANK = {"errors": 0, "settings": 0, "env": 0, "events": 0,
        "netguard": 1, "measure": 1, "viz": 1, "check": 1, "quiz": 1,
        "models": 2, "runtimes": 3, "serving": 4,
        "foundry": 5, "ollama": 5, "vllm": 5, "monitoring": 5,
        "routing": 6, "agents": 6, "capstone": 7,
        "doctor": 8, "binder": 8, "labrun": 8, "labtable": 8, "cli": 9}

KNOWN = {
    ("edgeagents.runtimes", "edgeagents.foundry.sdk"): "open_runtime('foundry') needs the SDK manager",
    ("edgeagents.runtimes.foundry_local", "edgeagents.foundry.byom"): "the Foundry runtime and its SDK helpers "
                                                                     "live in two packages",
    ("edgeagents.runtimes.foundry_local", "edgeagents.foundry.catalog"): "as above",
    ("edgeagents.runtimes.foundry_local", "edgeagents.foundry.sdk"): "as above",
    ("edgeagents.runtimes.ollama", "edgeagents.ollama.manager"): "the Ollama runtime starts the course's server, "
                                                                 "which lives in ollama/",
    ("edgeagents.runtimes.vllm", "edgeagents.vllm.metrics"): "the vLLM server reads its /metrics with vllm/'s parser",
    ("edgeagents.models.quality", "edgeagents.runtimes.llamacpp"): "perplexity and KL are measured on llama.cpp",
    ("edgeagents.ollama.merge", "edgeagents.models.finetune.export"): "merging the adapter for Ollama reuses "
                                                                      "the adapter export",
    ("edgeagents.vllm.multiagent", "edgeagents.routing.classifiers"): "the guide's vLLM multi-agent pattern "
                                                                      "routes with the course's classifier",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (LIB / "edgeagents").rglob("*.py"):
        parts = path.relative_to(LIB).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(module: str) -> set[str]:
    """The library modules ``module`` imports, anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("edgeagents"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("edgeagents"))
    return {m for m in found if m in MODULES and m != module}


def rank(module: str) -> float:
    parts = module.split(".")
    if module.startswith("edgeagents.models.finetune"):
        return 6.5
    return 9 if len(parts) == 1 else RANK[parts[1]]


def test_every_module_has_a_layer():
    assert sorted({m.split(".")[1] for m in MODULES if "." in m} - set(RANK)) == []


def test_no_import_points_up_a_layer():
    upward = {(m, d) for m in MODULES for d in _imports(m) if rank(d) > rank(m)}
    new = sorted(upward - set(KNOWN))
    assert new == [], "imports that point up a layer (move the code down, or the import up): " + ", ".join(
        f"{m} ({rank(m)}) -> {d} ({rank(d)})" for m, d in new)
    gone = sorted(set(KNOWN) - upward)
    assert gone == [], f"no longer needed in KNOWN (remove them): {gone}"


def test_no_import_cycles():
    graph = {m: _imports(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles: {cycles}"
