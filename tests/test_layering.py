"""Imports point one way: no module of the library imports one from a layer above it, and nothing makes a cycle.

Every ``import`` counts, the ones inside functions too: a lazy import hides a cycle from Python, not from the design.
The layers, bottom up (a module may import its own layer and the ones below):

0. errors, settings, env, events — what everything shares;
1. netguard, measure, viz, check, quiz — small tools;
2. models — the course model, catalog, GGUF facts, LoRA adapters as GGUF, the forge;
3. runtimes — the Runtime protocol, its core, and one package per backend (client, server, install);
4. serving (the uvicorn runner), quality (perplexity and KL on llama.cpp);
5. monitoring — the collector over every runtime's events, alerts, Prometheus, reports, load;
6. routing, agents, and the guide's service patterns per backend (foundry, ollama, vllm: they route, and are
   monitored);
6.5 finetune (it trains on the agents' tools);
7. capstone;
8. doctor, binder, labrun, labtable; 9. cli and the package's top level.
"""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"

RANK = {"errors": 0, "settings": 0, "env": 0, "events": 0,
        "netguard": 1, "measure": 1, "viz": 1, "check": 1, "quiz": 1,
        "models": 2, "runtimes": 3, "serving": 4, "quality": 4, "monitoring": 5,
        "routing": 6, "agents": 6, "foundry": 6, "ollama": 6, "vllm": 6, "finetune": 6.5, "capstone": 7,
        "doctor": 8, "binder": 8, "labrun": 8, "labtable": 8, "cli": 9}



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
    return 9 if len(parts) == 1 else RANK[parts[1]]


def test_every_module_has_a_layer():
    assert sorted({m.split(".")[1] for m in MODULES if "." in m} - set(RANK)) == []


def test_no_import_points_up_a_layer():
    upward = {(m, d) for m in MODULES for d in _imports(m) if rank(d) > rank(m)}
    new = sorted(upward)
    assert new == [], "imports that point up a layer (move the code down, or the import up): " + ", ".join(
        f"{m} ({rank(m)}) -> {d} ({rank(d)})" for m, d in new)


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
