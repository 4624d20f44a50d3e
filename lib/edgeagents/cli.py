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


# --- model forge: `edgeagents models build` (lib/edgeagents/models/forge) ---------------
# What each forge step unlocks: a step this machine cannot build (no torch wheel, no onnx) is skipped with it.
STEP_UNLOCKS = {
    "f16": "the F16 model of labs 03 and 09",
    "ladder": "lab 03's quantization ladder",
    "hf": "the Hugging Face folder for vLLM (lab 10) and the ONNX build",
    "onnx": "ONNX Runtime GenAI in lab 04 and Foundry Local's own model (lab 08)",
}


def _models_build(args: argparse.Namespace) -> int:
    from edgeagents.errors import RuntimeUnavailableError
    from edgeagents.models import forge

    built: dict[str, object] = {}
    for step in forge.STEPS:
        if args.only not in (None, step):
            continue
        try:
            built.update(forge.build_all(step, force=args.force, progress=not args.quiet))
        except RuntimeUnavailableError as exc:
            if args.require:
                raise
            print(f"[forge] skipped {step} ({STEP_UNLOCKS[step]}): {exc.message} {exc.hint}")
    for step, result in built.items():
        if isinstance(result, dict):
            for level, path in result.items():
                print(f"{step}/{level}: {path}")
        else:
            print(f"{step}: {result}")
    return 0


def _models_status(args: argparse.Namespace) -> int:
    from edgeagents.models import forge

    print(json.dumps(forge.status(), indent=2))
    return 0


def _add_forge_parser(models_sub: argparse._SubParsersAction) -> None:
    build = models_sub.add_parser("build", help="convert the course model: F16, quantization ladder, HF, ONNX")
    build.add_argument("--only", choices=["f16", "ladder", "hf", "onnx"], help="build one step (and what it needs)")
    build.add_argument("--force", action="store_true", help="rebuild even when a valid build is cached")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.add_argument("--require", action="store_true",
                       help="fail when a step cannot be built here (default: skip it, saying what it unlocks)")
    build.set_defaults(func=_models_build)
    st = models_sub.add_parser("status", help="which forge builds are present and intact")
    st.set_defaults(func=_models_status)
# --- end model forge --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeagents", description="Edge Agents Lab helper commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    doc = sub.add_parser("doctor", help="what this machine has and which labs can run")
    doc.add_argument("--json", action="store_true", help="print the report as JSON")
    doc.set_defaults(func=_doctor)
    models = sub.add_parser("models", help="the course model: prepare, path, info, build, status")
    models_sub = models.add_subparsers(dest="action", required=True)
    for action, text in (("prepare", "assemble and verify the course model"), ("path", "print the models folder"),
                         ("info", "describe the course model")):
        models_sub.add_parser(action, help=text).set_defaults(func=_models)
    _add_forge_parser(models_sub)
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
