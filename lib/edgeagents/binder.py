"""Binder: which labs run there, and the one line a lab prints there when it cannot run whole.

mybinder.org gives a learner about 2 GB of RAM and a share of a busy CPU, and builds ``binder/`` (the ``binder``
extra: the course, JupyterLab, the Agent Framework, the Ollama client, MiniLM's files). Labs whose main step needs
more (PyTorch builds, vLLM, the course's Ollama server, live training) say so at their top with
:func:`binder_note` and then run what they can, as they do on any machine that lacks a part.

>>> from edgeagents.binder import binder_labs
>>> binder_labs()[:3]
['00', '01', '02']
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edgeagents.doctor import LABS, LabNeeds

REPO = Path(__file__).resolve().parents[2]

#: Binder's memory limit per session; the Binder check holds each lab's kernel to it.
BINDER_RAM_MB = 2048

# BinderHub sets these in every session it launches; binder/start sets the last one (the Binder check uses it).
_BINDER_ENV = ("BINDER_LAUNCH_HOST", "BINDER_REQUEST", "EDGEAGENTS_ON_BINDER")


def on_binder() -> bool:
    """True inside a mybinder.org session (or under ``binder/start``)."""
    return any(os.environ.get(name) for name in _BINDER_ENV)


def lab_needs(lab: str) -> LabNeeds:
    """The doctor's record for lab ``"NN"``; a :class:`KeyError` names the labs there are."""
    for needs in LABS:
        if needs.lab == lab:
            return needs
    raise KeyError(f"no lab {lab!r}; the labs are {', '.join(n.lab for n in LABS)}")


def binder_labs() -> list[str]:
    """The labs that run whole on Binder (the Binder check runs each of them, lab and solutions)."""
    return [needs.lab for needs in LABS if not needs.not_on_binder]


def binder_note(lab: str) -> str | None:
    """On Binder, print and return one line saying what lab ``"NN"`` cannot do there; elsewhere ``None``."""
    needs = lab_needs(lab)
    if not needs.not_on_binder or not on_binder():
        return None
    line = (f"[Binder] Lab {lab} cannot run whole here: {needs.not_on_binder}. "
            "The cells below run what they can and say what they skip; the full lab needs `make lab` on your machine.")
    print(line)
    return line


def notebooks(on_binder_only: bool, labs_dir: Path = REPO / "labs") -> list[Path]:
    """The labs and solutions of the Binder labs (``True``), or of all the others (``False``).

    ``make test`` runs each notebook once: the Binder ones in the Binder check, the rest in ``make test-labs``.
    """
    chosen = set(binder_labs())
    found = sorted(labs_dir.glob("[0-9][0-9]_*.ipynb")) + sorted((labs_dir / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return [path for path in found if (path.name[:2] in chosen) == on_binder_only]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgeagents.binder",
                                     description="List notebooks: the Binder labs' or the others'.")
    parser.add_argument("which", choices=["binder", "elsewhere"])
    parser.add_argument("--only", choices=["labs", "solutions"], help="only the labs, or only their solutions")
    args = parser.parse_args(argv)
    paths = notebooks(args.which == "binder")
    if args.only:
        paths = [p for p in paths if (p.parent.name == "solutions") == (args.only == "solutions")]
    print(" ".join(str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
