"""The README's lab table and each lab's run-time line, generated from measured runs (``make lab-table``).

Each row joins what the doctor knows a lab needs (:data:`edgeagents.doctor.LABS`) with the last measured run of the
lab and of its solutions (:mod:`edgeagents.labrun`: ``make test`` records them). The same figures go into the
"Run time" line at the top of every lab notebook and its solutions, between the run-time markers. A lab with no
measurement says so; nothing here is typed by hand.

    python -m edgeagents.labtable README.md docs/instructors.md   # the tables, and the line in every notebook
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from edgeagents.doctor import LABS, LabNeeds
from edgeagents.labrun import load_timings

BEGIN = "<!-- lab-table:begin (make lab-table writes this from measured runs) -->"
END = "<!-- lab-table:end -->"
RUN_BEGIN = "<!-- run-time:begin (make lab-table writes this line from measured runs) -->"
RUN_END = "<!-- run-time:end -->"
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


def run_time_line(timings: dict, number: str, labs_dir: Path = REPO / "labs", table_link: str = "../README.md#the-labs") -> str:
    """The Markdown line a lab's header shows: its measured run time and its solutions', or that none is measured."""
    needs = next(n for n in LABS if n.lab == number)
    found = sorted(labs_dir.glob(f"{number}_*.ipynb"))
    if not found:
        raise ValueError(f"no notebook for lab {number} in {labs_dir}")
    lab, solutions = _run(timings, needs, found[0].stem), _run(timings, needs, f"{found[0].stem}_solutions")
    every = f"the [lab table]({table_link}) has every lab"
    if lab is None and solutions is None:
        return f"**Run time:** not measured yet on this machine (`make test` measures it); {every}."
    runs = [r for r in (lab, solutions) if r]
    peaks = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb")]
    peak = f", peak memory {max(peaks) / 1000:.1f} GB" if peaks else ""
    where = ("in the Binder environment" if not needs.not_on_binder else
             f"by `make test` on {runs[0].get('cpus', '?')} cores, {runs[0].get('threads') or 'default'} llama.cpp thread(s)")
    day = max(r.get("measured_at", "")[:10] for r in runs)
    return (f"**Run time:** {_minutes(lab)} for the lab, {_minutes(solutions)} for its worked solutions{peak}; "
            f"measured {where} on {day}; {every}.")


def update_notebook(path: Path, timings: dict | None = None, labs_dir: Path = REPO / "labs") -> bool:
    """Rewrite the run-time line between the markers in the first cell of ``path`` (a lab or its solutions).

    Only that cell's source changes: the JSON is written back in its own key order, so the rest of the file is
    byte for byte what it was. True when the file changed.
    """
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    head = nb["cells"][0]
    text = "".join(head["source"]) if isinstance(head["source"], list) else head["source"]
    if RUN_BEGIN not in text or RUN_END not in text:
        raise ValueError(f"{path} has no run-time markers in its first cell: put {RUN_BEGIN!r} and {RUN_END!r} on "
                         "lines of their own where the run-time line goes")
    link = "../../README.md#the-labs" if path.parent.name == "solutions" else "../README.md#the-labs"
    line = run_time_line(load_timings() if timings is None else timings, path.name[:2], labs_dir, link)
    new = re.sub(re.escape(RUN_BEGIN) + ".*?" + re.escape(RUN_END), lambda _: f"{RUN_BEGIN}\n{line}\n{RUN_END}",
                 text, flags=re.S)
    if new == text:
        return False
    head["source"] = new.splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def notebooks(labs_dir: Path = REPO / "labs") -> list[Path]:
    """Every lab notebook and its solutions twin."""
    return sorted(labs_dir.glob("[0-9][0-9]_*.ipynb")) + sorted((labs_dir / "solutions").glob("[0-9][0-9]_*.ipynb"))


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
    changed = [p.name for p in notebooks() if update_notebook(p, timings)]
    print(f"run-time line updated in {len(changed)} notebook(s)" + (f": {', '.join(changed)}" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
