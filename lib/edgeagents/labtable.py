"""The README's lab table, generated from measured runs (``make lab-table``), never typed by hand.

Each row joins what the doctor knows a lab needs (:data:`edgeagents.doctor.LABS`) with the last measured run of the
lab and of its solutions (:mod:`edgeagents.labrun`: ``make test`` records them). A lab with no measurement says so.

    python -m edgeagents.labtable README.md docs/instructors.md   # rewrite the tables between the markers
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from edgeagents.doctor import LABS, LabNeeds
from edgeagents.labrun import load_timings

BEGIN = "<!-- lab-table:begin (make lab-table writes this from measured runs) -->"
END = "<!-- lab-table:end -->"
REPO = Path(__file__).resolve().parents[2]


def _run(timings: dict, needs: LabNeeds, stem: str) -> dict | None:
    # A Binder lab's notebooks run in the Binder check, the others in the notebook tests.
    if not needs.not_on_binder:
        section = "binder"
    else:
        section = "solutions" if stem.endswith("_solutions") else "labs"
    run = timings.get(section, {}).get(stem)
    return run if run and run.get("ok", True) else None


def _minutes(run: dict | None) -> str:
    if run is None:
        return "not measured"
    seconds = float(run["seconds"])
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def render(timings: dict, labs_dir: Path = REPO / "labs", link_prefix: str = "labs") -> str:
    """The table as Markdown, for every lab whose notebook exists in ``labs_dir`` (linked as ``link_prefix/...``)."""
    rows = ["| lab | run time: lab / solutions | peak memory | extras | servers | Binder |",
            "|---|---|---|---|---|---|"]
    measured = []
    for needs in LABS:
        found = sorted(labs_dir.glob(f"{needs.lab}_*.ipynb"))
        if not found:
            continue
        stem = found[0].stem
        lab, solutions = _run(timings, needs, stem), _run(timings, needs, f"{stem}_solutions")
        measured += [r for r in (lab, solutions) if r]
        peaks = [r["peak_rss_mb"] for r in (lab, solutions) if r and r.get("peak_rss_mb")]
        peak = f"{max(peaks) / 1000:.1f} GB" if peaks else "not measured"
        extras = ", ".join(f"`{e}`" for e in needs.extras) or "—"
        servers = ", ".join(needs.servers) or "—"
        binder = "yes" if not needs.not_on_binder else f"no: {needs.not_on_binder}"
        rows.append(f"| [{needs.lab} {needs.title}]({link_prefix}/{found[0].name}) | {_minutes(lab)} / {_minutes(solutions)} "
                    f"| {peak} | {extras} | {servers} | {binder} |")
    if measured:
        cpus = sorted({str(r.get("cpus", "?")) for r in measured})
        threads = sorted({str(r.get("threads") or "default") for r in measured})
        dates = sorted(r.get("measured_at", "")[:10] for r in measured)
        rows.append("")
        rows.append(f"Measured by `make test` on {'/'.join(cpus)} cores, {'/'.join(threads)} llama.cpp thread(s), "
                    f"two notebooks at a time, {dates[0]}"
                    + (f" to {dates[-1]}" if dates[-1] != dates[0] else "")
                    + "; peak memory is the kernel and the servers it starts. Binder labs were measured in the "
                    "Binder environment (`make binder-check`).")
    return "\n".join(rows)


def update_readme(readme: Path, timings: dict | None = None, labs_dir: Path = REPO / "labs") -> bool:
    """Rewrite the table between the markers in ``readme`` (any Markdown file); True when the file changed."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{readme} has no lab-table markers: put {BEGIN!r} and {END!r} where the table goes")
    link = Path(os.path.relpath(labs_dir, readme.resolve().parent)).as_posix()
    table = render(load_timings() if timings is None else timings, labs_dir, link)
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{table}\n{END}", text, flags=re.S)
    if new != text:
        readme.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgeagents.labtable", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="*", default=[REPO / "README.md", REPO / "docs" / "instructors.md"])
    args = parser.parse_args(argv)
    timings = load_timings()
    for path in args.files:
        changed = update_readme(path, timings)
        print(f"{path}: lab table {'updated' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
