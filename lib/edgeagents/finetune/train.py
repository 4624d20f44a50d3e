"""LoRA supervised fine-tuning of the course model (extra ``finetune``: torch, transformers, peft).

What makes it fit a 2-core laptop:

- the base weights come straight from the shipped GGUF (``from_pretrained(..., gguf_file=...)``),
  cached once as an fp32 safetensors folder under ``EDGEAGENTS_HOME`` (a reload takes seconds);
- the loss is taken only on the model's turns, and the 262k-word output layer is computed
  **only at those positions** (most positions of a tool conversation are prompt): about twice as fast;
- examples of similar length are batched together, so little time goes into padding;
- threads (``EDGEAGENTS_THREADS``) and steps are settings; a GPU is used when there is one.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError
from edgeagents.finetune.data import IGNORE, MIXES, Example, encode_example, generate, share_key
from edgeagents.settings import load_settings

HF_CACHE_NAME = "gemma-3-270m-hf-from-q4km"
DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def require_finetune() -> Any:
    """Import torch (and check transformers and peft), or raise one typed error saying what to install."""
    try:
        import peft  # noqa: F401
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise RuntimeUnavailableError(
            f"Fine-tuning needs the 'finetune' extra ({exc.name} is missing).",
            hint="pip install -e '.[finetune]'  (torch, transformers, peft, accelerate, sentencepiece)",
        ) from None
    return torch


def finetune_available() -> bool:
    try:
        require_finetune()
    except RuntimeUnavailableError:
        return False
    return True


@dataclass
class TrainConfig:
    """Everything that decides the adapter. Saved in the training card."""

    n_examples: int = 1300
    data_seed: int = 0
    mix: str = "default"  # a key of data.MIXES: "default" (the course families) or "general" (+ unseen-style tools)
    seed: int = 1  # the shipped adapter's seed
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs when set
    stop_after: int | None = None  # stop early on the same schedule (at 40 steps the learning rate is still high)
    batch_size: int = 8
    # Padded tokens per batch of examples with no shared prefix. Those run whole with gradients, so eight long
    # general-mix examples (9,160 padded tokens) took run 7 past 19 GB; keyed batches pay ~2,000 beyond their prefix.
    # The default mix's keyless batches stay under 400 tokens, so its plan is unchanged.
    batch_tokens: int = 4096
    lr: float = 1e-3
    warmup_steps: int = 8
    rank: int = 16  # r=16 beats r=8 on the same data (right tool 96 % vs 86 %, priority 3/8 vs 1/8)
    alpha: int = 32
    targets: tuple[str, ...] = DEFAULT_TARGETS
    max_tokens: int = 2048
    threads: int | None = None  # None: EDGEAGENTS_THREADS
    device: str | None = None  # None: cuda when available, else cpu
    checkpoint_every: int = 20  # save the adapter every so many steps (0: only at the end)


@dataclass
class TrainResult:
    adapter_dir: Path
    config: TrainConfig
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    supervised_tokens: int = 0
    peak_rss_gb: float = 0.0
    machine: dict[str, Any] = field(default_factory=dict)
    planned_steps: int = 0

    def card(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        cfg["targets"] = list(self.config.targets)
        return {"config": cfg, "steps": self.steps, "planned_steps": self.planned_steps or self.steps,
                "seconds": round(self.seconds, 1),
                "tokens": self.tokens, "supervised_tokens": self.supervised_tokens,
                "tokens_per_s": round(self.tokens / self.seconds, 1) if self.seconds else 0.0,
                "peak_rss_gb": round(self.peak_rss_gb, 2), "machine": self.machine,
                "losses": [round(x, 4) for x in self.losses]}


def machine_info(threads: int, device: str) -> dict[str, Any]:
    import torch

    info = {"platform": platform.platform(), "cpu_count": os.cpu_count(), "threads": threads, "device": device,
            "torch": torch.__version__}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _peak_rss_gb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    except ImportError:  # pragma: no cover - Windows
        return 0.0


# ------------------------------------------------------------------ base model
def hf_base_dir() -> Path:
    return load_settings().home / "finetune" / HF_CACHE_NAME


def load_base(device: str = "cpu", *, log: Callable[[str], None] = print) -> tuple[Any, Any]:
    """The base model (fp32) and its tokenizer, from the cached HF folder or, the first time, the GGUF."""
    require_finetune()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cache = hf_base_dir()
    if not (cache / "config.json").exists() or not (cache / "done").exists():
        from edgeagents.models.course import prepare_base_model

        gguf = prepare_base_model(progress=False)
        log(f"converting {gguf.name} to an HF folder (once, about a minute)...")
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".hf-"))
        try:
            # the GGUF loader marks the model "quantized"; its weights are plain fp32 now
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            (tmp / "done").write_text(gguf.name)
            if cache.exists():
                shutil.rmtree(cache)
            tmp.rename(cache)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        del model
    tok = AutoTokenizer.from_pretrained(str(cache))
    model = AutoModelForCausalLM.from_pretrained(str(cache), dtype=torch.float32, attn_implementation="sdpa")
    return model.to(device), tok


def make_encoder(tok: Any) -> Callable[[str, bool], list[int]]:
    """``encode(text, special)`` with the HF tokenizer, matching llama.cpp's per-segment tokenization."""

    def encode(text: str, special: bool) -> list[int]:
        return list(tok(text, add_special_tokens=False, split_special_tokens=not special).input_ids)

    return encode


# ------------------------------------------------------------------ batching and loss
def shared_prefix_len(rows: Sequence[tuple[list[int], list[int]]]) -> int:
    """How many leading tokens all ``rows`` share and none supervises (0 for a single row)."""
    if len(rows) < 2:
        return 0
    first = rows[0][0]
    lcp = min(len(r[0]) for r in rows) - 1
    for ids, _ in rows[1:]:
        n = 0
        while n < lcp and ids[n] == first[n]:
            n += 1
        lcp = n
    first_supervised = min(next((i for i, lab in enumerate(labels) if lab != IGNORE), len(labels))
                           for _, labels in rows)
    return max(0, min(lcp, first_supervised - 1))


def plan_batches(rows: Sequence[tuple[list[int], list[int]]], keys: Sequence[str | None], batch_size: int,
                 rng: random.Random, max_tokens: int | None = None) -> list[tuple[int, list[int]]]:
    """Batches of examples that share a prompt prefix, as ``(prefix_len, indices)``, in random order.

    Examples with the same key (same system text and tool list, or the router prompt) go together,
    so the tool block (~950 tokens) runs once per batch instead of once per example. Examples with no
    key are batched by length, and with ``max_tokens`` a batch of them holds at most that many padded
    tokens (rows x longest row; a single longer row still gets a batch of its own).
    """
    groups: dict[str | None, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    batches: list[tuple[int, list[int]]] = []
    for key, members in groups.items():
        members = members[:]
        rng.shuffle(members)
        if key is None:
            members.sort(key=lambda i: len(rows[i][0]))
            batches += [(0, chunk) for chunk in _by_budget(members, rows, batch_size, max_tokens)]
            continue
        for start in range(0, len(members), batch_size):
            chunk = members[start:start + batch_size]
            batches.append((shared_prefix_len([rows[i] for i in chunk]), chunk))
    rng.shuffle(batches)
    return batches


def _by_budget(members: list[int], rows: Sequence[tuple[list[int], list[int]]], batch_size: int,
               max_tokens: int | None) -> list[list[int]]:
    """Consecutive chunks of ``members`` (sorted by length) of at most ``batch_size`` rows and ``max_tokens``."""
    chunks: list[list[int]] = []
    chunk: list[int] = []
    for i in members:
        longest = len(rows[i][0])  # sorted: the newest row is the longest
        if chunk and (len(chunk) == batch_size or (max_tokens and (len(chunk) + 1) * longest > max_tokens)):
            chunks.append(chunk)
            chunk = []
        chunk.append(i)
    if chunk:
        chunks.append(chunk)
    return chunks


def supervised_loss(model: Any, input_ids: Any, attention_mask: Any, labels: Any, prefix_len: int = 0) -> Any:
    """Cross-entropy over supervised positions only, with the output layer applied only there.

    With ``prefix_len``, the shared first tokens run once (batch of one, no gradient) and their
    keys and values are reused by every row: exact in the forward pass; the gradient simply does
    not flow back through the prefix.
    """
    import torch

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    cache = None
    if prefix_len > 0:
        from transformers import DynamicCache

        cache = DynamicCache(config=inner.config)
        with torch.no_grad():
            inner.model(input_ids=input_ids[:1, :prefix_len], past_key_values=cache, use_cache=True)
        if input_ids.shape[0] > 1:
            cache.batch_repeat_interleave(input_ids.shape[0])
    out = inner.model(input_ids=input_ids[:, prefix_len:], attention_mask=attention_mask,
                      past_key_values=cache, use_cache=cache is not None)
    hidden = out.last_hidden_state
    targets = labels[:, prefix_len + 1:]
    keep = targets != IGNORE
    h = hidden[:, :-1][keep]
    logits = inner.lm_head(h)
    cap = getattr(inner.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])


def collate(rows: Sequence[tuple[list[int], list[int]]], pad_id: int, device: str) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for r, (i, lab) in enumerate(rows):
        ids[r, : len(i)] = torch.tensor(i)
        mask[r, : len(i)] = 1
        labels[r, : len(lab)] = torch.tensor(lab)
    return ids.to(device), mask.to(device), labels.to(device)


# ------------------------------------------------------------------ training
def train(
    config: TrainConfig | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    examples: Sequence[Example] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train a LoRA adapter and save it (PEFT format) in ``out_dir``. Returns the run's record."""
    torch = require_finetune()
    from peft import LoraConfig, get_peft_model

    cfg = config or TrainConfig()
    if cfg.batch_size < 1 or cfg.rank < 1 or cfg.lr <= 0:
        raise InvalidRequestError(f"Bad training settings: batch_size={cfg.batch_size}, rank={cfg.rank}, lr={cfg.lr}.",
                                  hint="Use batch_size >= 1, rank >= 1 and a positive learning rate.")
    threads = cfg.threads or load_settings().n_threads
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.set_num_threads(threads)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    model, tok = load_base(device, log=log)
    model.config.use_cache = False
    lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, target_modules=list(cfg.targets),
                      bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    model.train()

    data = list(examples) if examples is not None else generate(cfg.n_examples, cfg.data_seed, MIXES[cfg.mix])
    encode = make_encoder(tok)
    rows = [encode_example(e, encode, tok.bos_token_id, cfg.max_tokens) for e in data]
    keys = [share_key(e) for e in data]
    rng = random.Random(cfg.seed)
    first_plan = plan_batches(rows, keys, cfg.batch_size, rng, cfg.batch_tokens)
    steps = cfg.max_steps if cfg.max_steps is not None else max(1, math.ceil(cfg.epochs * len(first_plan)))
    schedule: list[tuple[int, list[int]]] = list(first_plan)
    while len(schedule) < steps:
        schedule += plan_batches(rows, keys, cfg.batch_size, rng, cfg.batch_tokens)
    schedule = schedule[:steps]
    if cfg.stop_after is not None:  # same data order and learning-rate plan, fewer steps run
        schedule = schedule[: cfg.stop_after]

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        frac = (step - cfg.warmup_steps) / max(1, steps - cfg.warmup_steps)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * frac))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(schedule), desc="LoRA training", unit="step")
    losses: list[float] = []
    tokens = supervised = 0
    started = time.perf_counter()
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    out = Path(out_dir) if out_dir else load_settings().home / "finetune" / "adapter"
    out.mkdir(parents=True, exist_ok=True)
    progress_log = (out / "progress.jsonl").open("w")
    for step, (prefix_len, batch) in enumerate(schedule):
        ids, mask, labels = collate([rows[i] for i in batch], pad, device)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        loss = supervised_loss(model, ids, mask, labels, prefix_len)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        tokens += int(mask.sum())
        supervised += int((labels != IGNORE).sum())
        elapsed = time.perf_counter() - started
        progress_log.write(json.dumps({"step": step + 1, "of": steps, "loss": round(losses[-1], 4),
                                       "prefix": prefix_len, "rows": len(batch), "s": round(elapsed, 1)}) + "\n")
        progress_log.flush()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}", tok_s=f"{tokens / elapsed:.0f}")
        if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < steps:
            model.save_pretrained(out / "checkpoint")
    seconds = time.perf_counter() - started
    progress_log.close()
    if bar is not None:
        bar.close()

    model.save_pretrained(out)
    result = TrainResult(out, cfg, len(schedule), seconds, losses, tokens, supervised, _peak_rss_gb(),
                         machine_info(threads, device), steps)
    (out / "training.json").write_text(json.dumps(result.card(), indent=1))
    return result
