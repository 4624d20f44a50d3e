"""The one command behind ``make adapter``: data -> training -> GGUF adapter -> evaluation -> card.

    python -m edgeagents.finetune [--steps N] [--threads N] [--ship]

Without ``--ship`` everything lands in ``$EDGEAGENTS_HOME/finetune/run``; with it, the adapter
and its card are copied into the library (``edgeagents/models/adapters/``), where
:func:`edgeagents.models.course.course_model` picks them up.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError
from edgeagents.finetune.data import MIXES, generate, write_jsonl
from edgeagents.finetune.evaluate import TARGETS, RuntimeBackend, evaluate, format_table
from edgeagents.finetune.speed import decode_ratio
from edgeagents.models.course import ADAPTER_DIR, course_model
from edgeagents.models.lora_gguf import peft_to_gguf_adapter
from edgeagents.settings import load_settings

CARD_NAME = "course-lora"


def evaluate_llamacpp(adapter: Path | None, label: str, threads: int = 1) -> dict[str, Any]:
    """Held-out scores of the base GGUF (+ ``adapter``) on the in-process llama.cpp runtime."""
    from dataclasses import replace

    from edgeagents.runtimes import LlamaCppRuntime

    spec = course_model("base")
    if adapter is not None:
        spec = replace(spec, name="gemma-3-270m-course", adapter_path=Path(adapter), is_base_model=False)
    rt = LlamaCppRuntime(spec, n_threads=threads)
    try:
        return evaluate(RuntimeBackend(rt, 96), label, progress=True).as_dict()
    finally:
        rt.close()


def evaluate_unseen_llamacpp(adapter: Path, label: str, threads: int = 1) -> dict[str, Any]:
    """Scores on the held-out unseen tools (``heldout_unseen_tools.jsonl``) of base + ``adapter``, calls under the
    runtime's default call grammar: the form the course ships."""
    from dataclasses import replace

    from edgeagents.finetune.unseen import evaluate_unseen
    from edgeagents.runtimes import LlamaCppRuntime

    spec = replace(course_model("base"), name="gemma-3-270m-course", adapter_path=Path(adapter), is_base_model=False)
    rt = LlamaCppRuntime(spec, n_ctx=2048, n_threads=threads)
    try:
        return evaluate_unseen(rt, label=label, progress=True).as_dict()
    finally:
        rt.close()


def evaluate_transformers(peft_dir: Path | None, label: str, threads: int = 1) -> dict[str, Any]:
    """Held-out scores on transformers (fp32 base from the GGUF, + the PEFT adapter in ``peft_dir``).

    The same items and scorer as :func:`evaluate_llamacpp`: a gap between the two would point at
    the export (PEFT -> GGUF) or at a tokenization difference, not at the training.
    """
    from edgeagents.finetune.evaluate import TransformersBackend
    from edgeagents.finetune.train import load_base, require_finetune

    torch = require_finetune()
    torch.set_num_threads(threads)
    model, tok = load_base("cpu")
    if peft_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(peft_dir))
    model.eval()
    return evaluate(TransformersBackend(model, tok, 96), label, progress=True).as_dict()


def write_card(folder: Path, card: dict[str, Any]) -> tuple[Path, Path]:
    """``course-lora.json`` (everything) and ``course-lora.md`` (the readable summary)."""
    js = folder / f"{CARD_NAME}.json"
    js.write_text(json.dumps(card, indent=1, ensure_ascii=False))
    t = card["training"]
    lines = [
        "# Course LoRA adapter: training card", "",
        "Gemma 3 270M base (the shipped Q4_K_M GGUF, expanded to fp32 for training) + a LoRA adapter that teaches",
        "the course chat format, Hermes tool calls for the eight business tools, ticket priorities, asking for",
        "missing ids, and the router's complexity labels. Regenerate with `make adapter`.", "",
        "## Recipe",
        f"- data: {card['data']['n_examples']} generated examples, seed {card['data']['seed']}, "
        f"kinds {card['data']['kinds']}",
        f"- LoRA r={t['config']['rank']}, alpha={t['config']['alpha']} on {', '.join(t['config']['targets'])}; "
        f"lr {t['config']['lr']} (warm-up + cosine), batch {t['config']['batch_size']}, {t['steps']} steps "
        f"(of a {t.get('planned_steps', t['steps'])}-step schedule), "
        f"seed {t['config']['seed']}",
        f"- time: {t['seconds'] / 60:.1f} min on {t['machine'].get('device')} with {t['machine'].get('threads')} "
        f"thread(s) ({t['machine'].get('cpu_count')} cores, shared machine); "
        + (f"{t['tokens_per_s']} tokens/s; " if t.get("tokens_per_s") else "")
        + f"peak RSS {t['peak_rss_gb']} GB" + (f" — {t['machine']['note']}" if t['machine'].get("note") else ""),
        f"- loss: {t['losses'][0]:.2f} (first step) -> {sum(t['losses'][-5:]) / len(t['losses'][-5:]):.2f} (mean of last 5)",
        f"- adapter: {card['adapter']['bytes'] / 1e6:.1f} MB, sha256 {card['adapter']['sha256'][:16]}...",
        *([f"- decode with the adapter (llama.cpp, base Q4_K_M + adapter): {d['adapter_tok_s']} vs "
           f"{d['base_tok_s']} tok/s without = {d['ratio']}x ({d['how']}; `benchmarks/bench_adapter.py`)"]
          if (d := card.get("decode")) else []), "",
        "## Held-out results (edgeagents/data/heldout_agent_eval.jsonl, greedy)", "", "```",
        card.get("table", "(not evaluated)"), "```", "",
        *(["## Unseen tools (edgeagents/data/heldout_unseen_tools.jsonl, greedy, tool_choice=\"auto\", call grammar on)",
           "", "```", card["unseen_table"], "```", ""] if card.get("unseen_table") else []),
    ]
    md = folder / f"{CARD_NAME}.md"
    md.write_text("\n".join(lines))
    return js, md


def run(args: argparse.Namespace) -> dict[str, Any]:
    from edgeagents.finetune.train import TrainConfig, train

    out = Path(args.out) if args.out else load_settings().home / "finetune" / "run"
    out.mkdir(parents=True, exist_ok=True)
    if args.mix not in MIXES:
        raise InvalidRequestError(f"Unknown mix {args.mix!r}.", hint=f"Use one of {sorted(MIXES)}.")
    cfg = TrainConfig(threads=args.threads, mix=args.mix)
    if args.examples:
        cfg.n_examples = args.examples
    if args.steps:
        cfg.max_steps = args.steps
    if args.stop_after:
        cfg.stop_after = args.stop_after
    if args.reuse:  # evaluate and ship a finished run again, without retraining
        if not (out / "training.json").exists() or not (out / "adapter_model.safetensors").exists():
            raise InvalidRequestError(f"No finished training run in {out}.",
                                      hint="Train first (drop --reuse) or point --out at a run folder.")
        training = json.loads((out / "training.json").read_text())
        tc = training["config"]
        data = generate(tc["n_examples"], tc["data_seed"], MIXES[tc.get("mix", "default")])
        print(f"reusing the run in {out}: {training['steps']} steps, {training['seconds'] / 60:.1f} min")
    else:
        data = generate(cfg.n_examples, cfg.data_seed, MIXES[cfg.mix])
        write_jsonl(data, out / "data.jsonl")
        print(f"data: {len(data)} examples -> {out / 'data.jsonl'}")
        result = train(cfg, out, examples=data)
        training = result.card()
        print(f"trained {result.steps} steps in {result.seconds / 60:.1f} min")
    gguf = peft_to_gguf_adapter(out, out / f"{CARD_NAME}.gguf")
    print(f"GGUF adapter -> {gguf}")
    card: dict[str, Any] = {
        "data": {"n_examples": len(data), "seed": training["config"]["data_seed"],
                 "mix": MIXES[training["config"].get("mix", "default")],
                 "kinds": dict(collections.Counter(e.kind for e in data))},
        "training": training,
        "adapter": {"file": gguf.name, "bytes": gguf.stat().st_size,
                    "sha256": hashlib.sha256(gguf.read_bytes()).hexdigest()},
        "targets": TARGETS, "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if not args.no_eval:
        reports = [evaluate_llamacpp(None, "base, llama.cpp"), evaluate_llamacpp(gguf, "tuned, llama.cpp")]
        if not args.no_transformers:
            reports.append(evaluate_transformers(out, "tuned, transformers", cfg.threads or load_settings().n_threads))
        card["eval"] = {r["label"]: {k: v for k, v in r.items() if k != "rows"} for r in reports}
        (out / "eval_rows.json").write_text(json.dumps(reports, indent=1, ensure_ascii=False))
        from edgeagents.finetune.evaluate import EvalReport

        objs = [EvalReport(r["label"], r["rows"], r["seconds"]) for r in reports]
        card["table"] = format_table(objs)
        print(card["table"])
        if not args.no_unseen:
            from edgeagents.finetune.unseen import UnseenReport, format_unseen_table

            unseen = evaluate_unseen_llamacpp(gguf, "tuned+grammar, llama.cpp")
            (out / "unseen_rows.json").write_text(json.dumps(unseen, indent=1, ensure_ascii=False))
            card["unseen"] = {k: v for k, v in unseen.items() if k != "rows"}
            card["unseen_table"] = format_unseen_table([UnseenReport(unseen["label"], unseen["rows"])])
            print(card["unseen_table"])
        card["decode"] = decode_ratio(gguf, threads=1)
        print(f"decode: {card['decode']['adapter_tok_s']} tok/s with the adapter, {card['decode']['base_tok_s']} "
              f"without = {card['decode']['ratio']}x")
    write_card(out, card)
    if args.ship:
        # Ship only an adapter that meets the held-out targets: the library loads it for every lab.
        tuned = card.get("eval", {}).get("tuned, llama.cpp", {}).get("metrics", {})
        below = {k: v for k, v in tuned.items() if v < TARGETS[k]}
        if (below or not tuned) and not args.force:
            print(f"NOT shipped: below target on {sorted(below) or 'everything (not evaluated)'}; "
                  f"the adapter and card stay in {out} (--force ships anyway).")
            return card
        ADAPTER_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy2(gguf, ADAPTER_DIR / gguf.name)
        write_card(ADAPTER_DIR, card)
        print(f"shipped -> {ADAPTER_DIR}")
    return card


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m edgeagents.finetune", description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: one epoch of the data)")
    ap.add_argument("--stop-after", type=int, default=None,
                    help="stop after this many steps of the planned schedule (default: the shipped card's setting)")
    ap.add_argument("--examples", type=int, default=None, help="training examples (default: the shipped card's 1300)")
    ap.add_argument("--mix", default="default", help=f"training data mix, one of {sorted(MIXES)} (default: default)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: EDGEAGENTS_THREADS)")
    ap.add_argument("--out", default=None, help="work folder (default: $EDGEAGENTS_HOME/finetune/run)")
    ap.add_argument("--reuse", action="store_true",
                    help="do not train: export, evaluate and (with --ship) ship the finished run in --out")
    ap.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    ap.add_argument("--no-unseen", action="store_true", help="skip the unseen-tool evaluation (about 20 min)")
    ap.add_argument("--no-transformers", action="store_true",
                    help="skip the second evaluation of the tuned model on transformers (PEFT, fp32)")
    ap.add_argument("--ship", action="store_true", help="copy the adapter and its card into the library (if on target)")
    ap.add_argument("--force", action="store_true", help="with --ship: ship even below the held-out targets")
    run(ap.parse_args(argv))


def load_card(name: str = CARD_NAME) -> dict[str, Any] | None:
    """A training card from ``edgeagents/models/adapters`` (default: the shipped adapter's), or None."""
    path = ADAPTER_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def recorded_runs(label: str = "tuned, llama.cpp") -> list[dict[str, Any]]:
    """One row per training card with a held-out evaluation: the run, its examples and steps, each metric's count
    for ``label`` and whether it met every target. The runs in order, then the shipped adapter's card."""
    cards = sorted(ADAPTER_DIR.glob(f"{CARD_NAME}-run*.json"), key=lambda p: int(p.stem.rsplit("run", 1)[1]))
    rows = []
    for path in [*cards, ADAPTER_DIR / f"{CARD_NAME}.json"]:
        if not path.exists():
            continue
        card = json.loads(path.read_text())
        scores = card.get("eval", {}).get(label)
        if scores is None:
            continue
        run = "shipped" if path.stem == CARD_NAME else path.stem.rsplit("-", 1)[1].replace("run", "run ")
        rows.append({"run": run, "examples": card.get("data", {}).get("n_examples"),
                     "steps": card.get("training", {}).get("steps"), **scores["counts"],
                     "meets every target": all(scores["metrics"][k] >= t for k, t in TARGETS.items())})
    return rows


def shipped_adapter() -> tuple[Path | None, dict[str, Any] | None]:
    """``(path, card)`` of the shipped course adapter, or ``(None, None)`` where none ships."""
    path = ADAPTER_DIR / f"{CARD_NAME}.gguf"
    return (path, load_card()) if path.exists() else (None, None)
