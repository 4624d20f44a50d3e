"""The ``edgeagents`` command: ``doctor`` and ``models``."""

from __future__ import annotations

import argparse
import json
import sys

from edgeagents.errors import EdgeAgentsError


def _doctor(args: argparse.Namespace) -> int:
    from edgeagents.doctor import diagnose

    report = diagnose()
    print(json.dumps(report.as_dict(), indent=2, default=str) if args.json else report.text())
    return 0


def _models(args: argparse.Namespace) -> int:
    from edgeagents.models import course

    if args.action == "path":
        print(course.models_dir())
    elif args.action == "prepare":
        path = course.prepare_base_model(progress=sys.stderr.isatty())
        print(f"course model ready: {path}")
        adapter = course.course_adapter_path()
        print(f"course adapter: {adapter if adapter else 'not shipped yet (the course model is the base model)'}")
    elif args.action == "info":
        spec = course.course_model()
        print(json.dumps({"name": spec.name, "path": str(spec.path), "adapter": str(spec.adapter_path or ""),
                          "base model": spec.is_base_model, "description": spec.description}, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeagents", description="Edge Agents Lab helper commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    doc = sub.add_parser("doctor", help="what this machine has and which labs can run")
    doc.add_argument("--json", action="store_true", help="print the report as JSON")
    doc.set_defaults(func=_doctor)
    models = sub.add_parser("models", help="the course model: prepare, path, info")
    models.add_argument("action", choices=["prepare", "path", "info"])
    models.set_defaults(func=_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except EdgeAgentsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
