"""The guide's deployment-scenario templates, turned into launch commands and checked by vLLM itself.

The guide gives five scenarios (development, staging, production low/high, enterprise) as
dictionaries of vLLM settings, and a function that turns one into a command line. Written
in 2024, some of its options no longer exist in vLLM (``--disable-log-requests``,
``--speculative-model``) and some values do not fit a given model or machine
(``--quantization awq`` on an unquantized model, tensor parallelism on one CPU).

:func:`validate_commands` runs the commands through vLLM's *own* argument parser and engine
configuration checks (``make_arg_parser``, ``validate_parsed_serve_args``,
``AsyncEngineArgs.create_engine_config``) in vLLM's environment, without starting a server,
and reports what vLLM says about each.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError

VALIDATOR = Path(__file__).with_name("_validate_args.py")


class DeploymentScenario(Enum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION_LOW = "production_low"
    PRODUCTION_HIGH = "production_high"
    ENTERPRISE = "enterprise"


# The guide's values, unchanged (its VLLMConfigTemplates.get_config_template).
GUIDE_TEMPLATES: dict[DeploymentScenario, dict[str, Any]] = {
    DeploymentScenario.DEVELOPMENT: {
        "gpu_memory_utilization": 0.6, "max_model_len": 2048, "tensor_parallel_size": 1, "pipeline_parallel_size": 1,
        "quantization": None, "enable_prefix_caching": False, "max_num_seqs": 32, "max_num_batched_tokens": 2048,
    },
    DeploymentScenario.STAGING: {
        "gpu_memory_utilization": 0.8, "max_model_len": 4096, "tensor_parallel_size": 1, "pipeline_parallel_size": 1,
        "quantization": "awq", "enable_prefix_caching": True, "max_num_seqs": 64, "max_num_batched_tokens": 4096,
    },
    DeploymentScenario.PRODUCTION_LOW: {
        "gpu_memory_utilization": 0.85, "max_model_len": 4096, "tensor_parallel_size": 1, "pipeline_parallel_size": 1,
        "quantization": "awq", "enable_prefix_caching": True, "max_num_seqs": 128, "max_num_batched_tokens": 8192,
        "enable_chunked_prefill": True,
    },
    DeploymentScenario.PRODUCTION_HIGH: {
        "gpu_memory_utilization": 0.9, "max_model_len": 8192, "tensor_parallel_size": 2, "pipeline_parallel_size": 1,
        "quantization": "awq", "enable_prefix_caching": True, "max_num_seqs": 256, "max_num_batched_tokens": 16384,
        "enable_chunked_prefill": True, "speculative_model": "small_draft_model",
    },
    DeploymentScenario.ENTERPRISE: {
        "gpu_memory_utilization": 0.95, "max_model_len": 16384, "tensor_parallel_size": 4, "pipeline_parallel_size": 2,
        "quantization": "awq", "enable_prefix_caching": True, "max_num_seqs": 512, "max_num_batched_tokens": 32768,
        "enable_chunked_prefill": True, "speculative_model": "optimized_draft_model", "guided_decoding_backend": "outlines",
    },
}

_NUMERIC_RULES: dict[str, tuple[type, float, float]] = {
    "gpu_memory_utilization": (float, 0.0, 1.0),
    "max_model_len": (int, 1, 10_000_000),
    "tensor_parallel_size": (int, 1, 1024),
    "pipeline_parallel_size": (int, 1, 1024),
    "max_num_seqs": (int, 1, 1_000_000),
    "max_num_batched_tokens": (int, 1, 100_000_000),
}


def scenario(value: DeploymentScenario | str) -> DeploymentScenario:
    if isinstance(value, DeploymentScenario):
        return value
    try:
        return DeploymentScenario(str(value).lower())
    except ValueError:
        raise InvalidRequestError(
            f"{value!r} is not a deployment scenario.",
            hint=f"Use one of: {', '.join(s.value for s in DeploymentScenario)}.",
        ) from None


def get_config_template(which: DeploymentScenario | str, **overrides: Any) -> dict[str, Any]:
    """The guide's template for a scenario, with ``overrides`` applied and checked for obvious mistakes."""
    config = dict(GUIDE_TEMPLATES[scenario(which)])
    config.update(overrides)
    check_template(config)
    return config


def check_template(config: dict[str, Any]) -> None:
    """Catch values that can never work before asking vLLM (wrong type, out of range)."""
    for key, (kind, low, high) in _NUMERIC_RULES.items():
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
            raise InvalidRequestError(
                f"Template value {key}={value!r} should be a {kind.__name__}.", hint=f"Set {key} to a number."
            )
        lower_ok = value > low if kind is float else value >= low
        if not lower_ok or value > high:
            raise InvalidRequestError(
                f"Template value {key}={value!r} is outside ({low}, {high}].",
                hint="gpu_memory_utilization is a fraction (e.g. 0.8); sizes and counts are positive whole numbers.",
            )


def generate_vllm_command(
    model: str | Path,
    which: DeploymentScenario | str,
    *,
    port: int = 8000,
    host: str = "127.0.0.1",
    python: str = "python",
    config: dict[str, Any] | None = None,
) -> list[str]:
    """The guide's ``generate_vllm_command``: the scenario's template as a launch command line.

    ``host`` defaults to 127.0.0.1, like every server the course starts: only this machine can reach it.
    Pass ``host="0.0.0.0"`` to serve other machines on your network, and then keep it behind a firewall and
    require a key (vLLM's ``--api-key``, or an authenticating proxy): without one, anyone who reaches the port
    can use the model.
    """
    config = dict(config) if config is not None else get_config_template(which)
    check_template(config)
    cmd = [
        python, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model),
        "--host", host,
        "--port", str(port),
        "--gpu-memory-utilization", str(config["gpu_memory_utilization"]),
        "--max-model-len", str(config["max_model_len"]),
        "--tensor-parallel-size", str(config["tensor_parallel_size"]),
        "--max-num-seqs", str(config["max_num_seqs"]),
        "--max-num-batched-tokens", str(config["max_num_batched_tokens"]),
        "--trust-remote-code",
        "--disable-log-requests",
    ]
    if config.get("quantization"):
        cmd += ["--quantization", str(config["quantization"])]
    if config.get("enable_prefix_caching"):
        cmd.append("--enable-prefix-caching")
    if config.get("enable_chunked_prefill"):
        cmd.append("--enable-chunked-prefill")
    if config.get("pipeline_parallel_size", 1) > 1:
        cmd += ["--pipeline-parallel-size", str(config["pipeline_parallel_size"])]
    if config.get("speculative_model"):
        cmd += ["--speculative-model", str(config["speculative_model"])]
    return cmd


def modernize_command(cmd: Sequence[str], num_speculative_tokens: int = 5) -> list[str]:
    """The guide's command with its outdated options rewritten the way current vLLM spells them."""
    out: list[str] = []
    items = list(cmd)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--disable-log-requests":
            i += 1
            continue
        if arg == "--speculative-model" and i + 1 < len(items):
            out += ["--speculative-config", json.dumps({"model": items[i + 1], "num_speculative_tokens": num_speculative_tokens})]
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def serve_args(cmd: Sequence[str]) -> list[str]:
    """The arguments after ``python -m vllm.entrypoints.openai.api_server`` (or ``vllm serve``)."""
    cmd = list(cmd)
    for marker in ("vllm.entrypoints.openai.api_server", "serve"):
        if marker in cmd:
            return cmd[cmd.index(marker) + 1 :]
    return cmd


@dataclass(frozen=True)
class Validation:
    """What vLLM said about one command line."""

    name: str
    ok: bool
    stage: str  # "parse", "serve-args", "engine-config" (where it failed) or "ok"
    message: str
    resolved: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def raise_if_invalid(self) -> Validation:
        if not self.ok:
            raise InvalidRequestError(
                f"vLLM rejects the {self.name!r} command at {self.stage}: {self.message}",
                hint="Fix or drop that option; vLLM's message names the value it could not accept.",
            )
        return self


def validate_commands(
    commands: dict[str, Sequence[str]], *, python: str | Path | None = None, timeout: float = 600.0
) -> list[Validation]:
    """Check command lines with vLLM's own parser and config checks, in vLLM's environment (no server).

    One subprocess validates them all (vLLM's imports take ~20 s; each check ~1 s after that).
    """
    from edgeagents.runtimes.vllm.runtime import require_vllm_python
    from edgeagents.settings import load_settings

    exe = str(python or require_vllm_python())
    payload = json.dumps([{"name": name, "argv": serve_args(cmd)} for name, cmd in commands.items()])
    home = load_settings().home
    import os

    env = dict(os.environ, VLLM_CACHE_ROOT=str(home / "vllm-cache"), HF_HUB_OFFLINE="1", VLLM_NO_USAGE_STATS="1",
               VLLM_CPU_KVCACHE_SPACE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("VIRTUAL_ENV", None)
    try:
        proc = subprocess.run(
            [exe, str(VALIDATOR)], input=payload, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        raise RuntimeUnavailableError(f"vLLM's validator did not finish in {timeout:.0f} s.") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeUnavailableError(
            f"vLLM's validator failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-800:]}"
        )
    return [Validation(**json.loads(ln)) for ln in lines]


def validation_table(results: Sequence[Validation]):  # noqa: ANN201 - a pandas DataFrame
    import pandas as pd

    return pd.DataFrame(
        [{"command": r.name, "valid": r.ok, "stage": r.stage, "vLLM says": r.message[:160]} for r in results]
    )
