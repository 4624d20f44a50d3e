"""Validate vLLM serve command lines with vLLM's own parser and config checks (no server).

Runs inside vLLM's environment (not the course's): reads ``[{"name", "argv"}, ...]`` as JSON on
stdin and prints one JSON line per command: ``{"name", "ok", "stage", "message", "resolved", "seconds"}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import time


def _quiet() -> None:
    logging.disable(logging.WARNING)


def main() -> int:
    items = json.loads(sys.stdin.read())
    _quiet()
    from vllm.engine.arg_utils import AsyncEngineArgs
    try:  # vLLM 0.32 moved the serve parser to entrypoints.launchers
        from vllm.entrypoints.launchers.cli_args import make_arg_parser, validate_parsed_serve_args
    except ImportError:
        from vllm.entrypoints.openai.cli_args import make_arg_parser, validate_parsed_serve_args
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    for item in items:
        t0 = time.perf_counter()
        out = {"name": item["name"], "ok": False, "stage": "parse", "message": "", "resolved": {}}
        parser = make_arg_parser(FlexibleArgumentParser(prog="vllm-serve"))
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                args = parser.parse_args(item["argv"])
        except SystemExit:
            lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
            out["message"] = lines[-1] if lines else "the parser refused the arguments"
            print(json.dumps({**out, "seconds": time.perf_counter() - t0}), flush=True)
            continue
        except Exception as exc:  # noqa: BLE001 - report whatever vLLM raises
            out["message"] = f"{type(exc).__name__}: {exc}"
            print(json.dumps({**out, "seconds": time.perf_counter() - t0}), flush=True)
            continue
        try:
            out["stage"] = "serve-args"
            validate_parsed_serve_args(args)
            out["stage"] = "engine-config"
            with contextlib.redirect_stdout(io.StringIO()):
                config = AsyncEngineArgs.from_cli_args(args).create_engine_config()
            sched, model, par, cache = config.scheduler_config, config.model_config, config.parallel_config, config.cache_config
            out["resolved"] = {
                "max_model_len": model.max_model_len,
                "dtype": str(model.dtype).replace("torch.", ""),
                "quantization": model.quantization,
                "max_num_seqs": sched.max_num_seqs,
                "max_num_batched_tokens": sched.max_num_batched_tokens,
                "chunked_prefill": getattr(sched, "enable_chunked_prefill", None),
                "prefix_caching": getattr(cache, "enable_prefix_caching", None),
                "tensor_parallel_size": par.tensor_parallel_size,
                "pipeline_parallel_size": par.pipeline_parallel_size,
                "device": str(getattr(config.device_config, "device_type", "")),
            }
            out["ok"], out["stage"], out["message"] = True, "ok", "accepted"
        except BaseException as exc:  # noqa: BLE001 - pydantic, ValueError, SystemExit...
            out["message"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:600]}"
        print(json.dumps({**out, "seconds": time.perf_counter() - t0}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
