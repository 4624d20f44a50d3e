"""Talk to an Ollama server with the official ``ollama`` client: health, models, create, chat, speed.

>>> m = OllamaManager()                       # OLLAMA_HOST, or http://127.0.0.1:11434
>>> m.health()                                # Health(ok=True, detail='Ollama 0.9.3 at ...')
>>> m.ensure_course_model()                   # creates "edgeagents-course" from the local GGUF (no pull)
>>> reply = m.chat("edgeagents-course", [{"role": "user", "content": "Hi"}], num_predict=8)
>>> reply.tokens_per_second                   # eval_count / eval_duration, as Ollama measured it

Every failure is a typed error from :mod:`edgeagents.errors` with a hint: nothing answering
(:class:`RuntimeUnavailableError`), an unknown model (:class:`ModelNotFoundError`), a pull that
cannot reach the registry (:class:`RuntimeUnavailableError`), a server or runner that dies while
answering (:class:`BackendError`). Every request has a timeout, so nothing hangs.

The course model is created from local files with a Modelfile, so no download is needed:
``FROM`` an F16 GGUF of Gemma 3 270M (with the course LoRA folded in when the library ships one:
Ollama's Gemma 3 engine cannot apply ``ADAPTER`` layers),
a chat ``TEMPLATE`` in the course format (with ``.Tools``, so Ollama accepts ``tools=``),
stop tokens and ``num_predict``. The template renders conversations to the same text as
:mod:`edgeagents.runtimes.chat_template` (checked by prompt length in Ollama's debug log); tool
lists are written by Go's JSON encoder, so their spacing differs a little from the course format.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeagents.errors import (
    EdgeAgentsError,
    ModelNotFoundError,
    RuntimeUnavailableError,
)
from edgeagents.runtimes import transport
from edgeagents.runtimes.base import Health
from edgeagents.runtimes.server_metrics import ollama_durations
from edgeagents.settings import load_settings

DEFAULT_HOST = "http://127.0.0.1:11434"
COURSE_MODEL = "edgeagents-course"
TEMPLATE_PATH = Path(__file__).with_name("course_template.tmpl")
STOP = ("<end_of_turn>",)
F16_FILENAME = "gemma-3-270m-f16.gguf"
MERGED_FILENAME = "gemma-3-270m-course-merged-f16.gguf"


def default_host() -> str:
    host = os.environ.get("OLLAMA_HOST", "").strip() or DEFAULT_HOST
    if not host.startswith(("http://", "https://")):
        host = "http://" + host
    return host.rstrip("/")


@dataclass(frozen=True)
class OllamaReply:
    """One answer, with Ollama's own timings (nanoseconds in the API, seconds here)."""

    text: str
    model: str
    done_reason: str
    prompt_tokens: int
    completion_tokens: int
    prompt_s: float
    eval_s: float
    total_s: float
    load_s: float
    wall_s: float
    tool_calls: tuple[dict[str, Any], ...] = ()

    @property
    def tokens_per_second(self) -> float:
        """Decode speed as Ollama measured it: eval_count / eval_duration."""
        return self.completion_tokens / self.eval_s if self.eval_s > 0 else 0.0

    @property
    def prompt_tokens_per_second(self) -> float:
        return self.prompt_tokens / self.prompt_s if self.prompt_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model, "done_reason": self.done_reason, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens, "prompt_tok_s": round(self.prompt_tokens_per_second, 2),
            "decode_tok_s": round(self.tokens_per_second, 2), "load_s": round(self.load_s, 3),
            "total_s": round(self.total_s, 3), "wall_s": round(self.wall_s, 3),
        }


def _reply(resp: Any, wall_s: float, text: str | None = None) -> OllamaReply:
    msg = getattr(resp, "message", None)
    calls = tuple(
        {"name": c.function.name, "arguments": dict(c.function.arguments or {})}
        for c in ((msg.tool_calls or []) if msg is not None else [])
    )
    if text is None:
        text = msg.content if msg is not None else getattr(resp, "response", "")
    d = ollama_durations(resp)
    return OllamaReply(
        text=text or "",
        model=resp.model or "",
        done_reason=resp.done_reason or "",
        prompt_tokens=d.prompt_eval_count,
        completion_tokens=d.eval_count,
        prompt_s=d.prompt_eval_s,
        eval_s=d.eval_s,
        total_s=d.total_s,
        load_s=d.load_s,
        wall_s=wall_s,
        tool_calls=calls,
    )


@dataclass
class ModelFile:
    """An Ollama Modelfile, built in code (``str(mf)`` is the text ``ollama create -f`` reads)."""

    from_: str
    adapter: str | None = None
    template: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    system: str | None = None

    def __str__(self) -> str:
        lines = [f"FROM {self.from_}"]
        if self.adapter:
            lines.append(f"ADAPTER {self.adapter}")
        if self.template:
            lines.append(f'TEMPLATE """{self.template}"""')
        if self.system:
            lines.append(f'SYSTEM """{self.system}"""')
        for key, value in self.parameters.items():
            for v in value if isinstance(value, (list, tuple)) else [value]:
                lines.append(f"PARAMETER {key} {v!r}" if isinstance(v, str) else f"PARAMETER {key} {v}")
        return "\n".join(lines) + "\n"


def course_template() -> str:
    return TEMPLATE_PATH.read_text()


def course_f16_gguf(*, progress: bool = False) -> Path:
    """The course model as an F16 GGUF (the course's Ollama server build computes NaN on K-quants).

    Built by the model forge (``edgeagents.models.forge.build_f16``): once, cached, verified.
    """
    from edgeagents.models.forge import build_f16

    return Path(build_f16(progress=progress))


class OllamaManager:
    """The guide's ``OllamaManager``, on the real client: health, list, show, create, chat, stream, ps.

    Args:
        host: the server, e.g. ``http://127.0.0.1:11434``; default ``$OLLAMA_HOST``.
        timeout: seconds any request may take before it fails with a typed error.
    """

    def __init__(self, host: str | None = None, *, timeout: float = 120.0) -> None:
        try:
            import ollama
        except ImportError:
            raise RuntimeUnavailableError(
                "The ollama Python client is not installed.", hint="pip install -e '.[ollama]'  (or run `make setup`)"
            ) from None
        self._ollama = ollama
        self.host = (host or default_host()).rstrip("/")
        self.timeout = timeout
        self.client = ollama.Client(host=self.host, timeout=timeout)

    @property
    def openai_url(self) -> str:
        return f"{self.host}/v1"

    # ---------------------------------------------------------------- errors
    def _peer(self, model: str | None = None) -> transport.Peer:
        from edgeagents.runtimes.ollama.server import HOW_TO_START

        return transport.Peer(
            self.host, name="Ollama", model=model, timeout=self.timeout, how_to_start=HOW_TO_START,
            list_models="List models with manager.list_models(); create the course model with manager.ensure_course_model().",
            when_slow="The server is busy or stuck: ask for fewer tokens (num_predict) or raise timeout=.",
            when_offline="Create the model from a local GGUF instead: manager.create_from_gguf(name, path).",
            when_cut_off="The server or its runner stopped mid-answer: check manager.health() and the server's log.",
        )

    def _translate(self, exc: BaseException, model: str | None = None) -> EdgeAgentsError:
        return transport.translate(exc, self._peer(model))

    def _cut_off(self, model: str | None = None) -> EdgeAgentsError:
        """A stream that ended without its final ``done`` part."""
        return transport.typed_error(transport.Failure("stream_broken"), self._peer(model))

    def _call(self, fn: Any, *args: Any, _model: str | None = None, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise self._translate(exc, _model) from exc

    # ---------------------------------------------------------------- the server
    def health(self) -> Health:
        start = time.perf_counter()
        import httpx

        try:
            resp = httpx.get(f"{self.host}/api/version", timeout=min(5.0, self.timeout))
            resp.raise_for_status()
            return Health(True, f"Ollama {resp.json().get('version', '?')} at {self.host}", time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001
            return Health(False, self._translate(exc).message, time.perf_counter() - start)

    def require(self) -> OllamaManager:
        """Raise :class:`RuntimeUnavailableError` (with how to start one) unless a server answers."""
        h = self.health()
        if not h.ok:
            from edgeagents.runtimes.ollama.server import HOW_TO_START

            raise RuntimeUnavailableError(h.detail, hint=HOW_TO_START)
        return self

    def version(self) -> str:
        import httpx

        try:
            return httpx.get(f"{self.host}/api/version", timeout=min(5.0, self.timeout)).json().get("version", "?")
        except Exception as exc:
            raise self._translate(exc) from exc

    # ---------------------------------------------------------------- models
    def list_models(self) -> list[dict[str, Any]]:
        resp = self._call(self.client.list)
        return [
            {
                "name": m.model,
                "size_mb": round((m.size or 0) / 1e6, 1),
                "family": m.details.family if m.details else "",
                "parameters": m.details.parameter_size if m.details else "",
                "quantization": m.details.quantization_level if m.details else "",
                "digest": (m.digest or "")[:12],
            }
            for m in resp.models
        ]

    def has_model(self, name: str) -> bool:
        wanted = {name, f"{name}:latest"}
        return any(m["name"] in wanted for m in self.list_models())

    def show(self, name: str) -> dict[str, Any]:
        resp = self._call(self.client.show, name, _model=name)
        return {
            "template": resp.template or "",
            "parameters": resp.parameters or "",
            "details": resp.details.model_dump() if resp.details else {},
            "capabilities": list(getattr(resp, "capabilities", None) or []),
            "modelinfo": dict(resp.modelinfo or {}),
        }

    def ps(self) -> list[dict[str, Any]]:
        """What is loaded now (``/api/ps``): name, size in memory, and when it unloads."""
        resp = self._call(self.client.ps)
        return [
            {"name": m.model, "size_mb": round((m.size or 0) / 1e6, 1), "vram_mb": round((m.size_vram or 0) / 1e6, 1),
             "expires_at": str(m.expires_at)}
            for m in resp.models
        ]

    def pull(self, name: str) -> None:
        """Download a model from the Ollama registry (fails with a typed error offline)."""
        try:
            for _ in self.client.pull(name, stream=True):
                pass
        except Exception as exc:
            raise self._translate(exc, name) from exc

    def delete(self, name: str) -> None:
        self._call(self.client.delete, name, _model=name)

    def create_from_gguf(
        self,
        name: str,
        gguf_path: Path | str,
        *,
        adapter_path: Path | str | None = None,
        template: str | None = None,
        parameters: dict[str, Any] | None = None,
        system: str | None = None,
    ) -> dict[str, Any]:
        """``ollama create`` from local files: upload the GGUF (and adapter) as blobs, then build the model."""
        gguf_path = Path(gguf_path)
        if not gguf_path.is_file():
            raise ModelNotFoundError(f"No GGUF file at {gguf_path}.")
        start = time.perf_counter()
        files = {gguf_path.name: self._call(self.client.create_blob, gguf_path)}
        adapters = None
        if adapter_path is not None:
            adapter_path = Path(adapter_path)
            if not adapter_path.is_file():
                raise ModelNotFoundError(f"No adapter file at {adapter_path}.")
            adapters = {adapter_path.name: self._call(self.client.create_blob, adapter_path)}
        last = None
        try:
            # drained for its last event, whose status is returned below
            for last in self.client.create(model=name, files=files, adapters=adapters, template=template,  # noqa: B007
                                           parameters=parameters, system=system, stream=True):
                pass
        except Exception as exc:
            raise self._translate(exc, name) from exc
        return {"name": name, "status": getattr(last, "status", ""), "seconds": round(time.perf_counter() - start, 2)}

    def course_modelfile(self, *, num_predict: int = 64) -> tuple[ModelFile, str]:
        """The Modelfile of the course model, and a label saying what it holds.

        With the course adapter shipped (and ``EDGEAGENTS_MODEL=course``), the adapter is folded into
        the F16 weights (:mod:`edgeagents.runtimes.ollama.merge`): Ollama's engine for Gemma 3 refuses
        ``ADAPTER`` ("loras are not yet implemented"). Without it, the plain base model.
        """
        from edgeagents.models.course import course_adapter_path

        gguf = course_f16_gguf()
        adapter = course_adapter_path() if load_settings().model_variant == "course" else None
        if adapter is not None:
            from edgeagents.runtimes.ollama.merge import merge_lora

            gguf = merge_lora(gguf, adapter, load_settings().models_dir / "ollama" / MERGED_FILENAME)
            label = f"base + course adapter ({adapter.name}, merged into the F16 weights)"
        else:
            label = "base (no course adapter shipped, or EDGEAGENTS_MODEL=base)"
        params = {"stop": list(STOP), "num_predict": num_predict, "num_ctx": load_settings().n_ctx,
                  "num_thread": load_settings().n_threads, "temperature": 0}
        # a Go template comment (renders nothing) records the build, so a new adapter means a new model
        if adapter is not None:
            import hashlib

            marker = "{{/* edgeagents: course %s */}}" % hashlib.sha256(adapter.read_bytes()).hexdigest()[:12]  # noqa: UP031 (literal braces)
        else:
            marker = "{{/* edgeagents: base */}}"
        return ModelFile(str(gguf), None, marker + course_template(), params), label

    def ensure_course_model(self, name: str = COURSE_MODEL, *, num_predict: int = 64, force: bool = False) -> dict[str, Any]:
        """Create the course model from local files unless the server already has this build. Returns what it did."""
        mf, label = self.course_modelfile(num_predict=num_predict)
        if not force and self.has_model(name) and self._same_build(name, mf.template or "", num_predict):
            return {"name": name, "created": False, "model": label}
        info = self.create_from_gguf(name, mf.from_, template=mf.template, parameters=mf.parameters)
        return {"name": name, "created": True, "model": label, "seconds": info["seconds"]}

    def _same_build(self, name: str, template: str, num_predict: int) -> bool:
        """Does the server's model match what would be built now (same template and marker, num_predict)?"""
        import re

        try:
            resp = self.client.show(name)
        except Exception:  # noqa: BLE001
            return False
        limit = re.search(r"^num_predict\s+(\d+)\s*$", resp.parameters or "", re.M)
        return (resp.template or "").strip() == template.strip() and limit is not None and int(limit.group(1)) == num_predict

    # ---------------------------------------------------------------- inference
    @staticmethod
    def _options(num_predict: int | None, options: dict[str, Any]) -> dict[str, Any]:
        opts = {"temperature": 0, "num_thread": load_settings().n_threads, **options}
        if num_predict is not None:
            opts["num_predict"] = num_predict
        return opts

    def chat(
        self, model: str, messages: Sequence[dict[str, Any]], *, tools: Sequence[dict[str, Any]] | None = None,
        num_predict: int | None = 32, **options: Any,
    ) -> OllamaReply:
        start = time.perf_counter()
        try:
            resp = self.client.chat(model=model, messages=list(messages), tools=tools,
                                    options=self._options(num_predict, options))
        except Exception as exc:
            raise self._translate(exc, model) from exc
        return _reply(resp, time.perf_counter() - start)

    def chat_stream(
        self, model: str, messages: Sequence[dict[str, Any]], *, num_predict: int | None = 32, **options: Any
    ) -> Iterator[str | OllamaReply]:
        """Yield text pieces as they arrive, then one :class:`OllamaReply` with the totals."""
        start = time.perf_counter()
        text = ""
        last = None
        try:
            for part in self.client.chat(model=model, messages=list(messages), stream=True,
                                         options=self._options(num_predict, options)):
                last = part
                piece = part.message.content or ""
                if piece:
                    text += piece
                    yield piece
        except Exception as exc:
            raise self._translate(exc, model) from exc
        if last is None or not last.done:
            raise self._cut_off(model)
        yield _reply(last, time.perf_counter() - start, text)

    def generate(self, model: str, prompt: str, *, num_predict: int | None = 32, raw: bool = False, **options: Any) -> OllamaReply:
        start = time.perf_counter()
        try:
            resp = self.client.generate(model=model, prompt=prompt, raw=raw, options=self._options(num_predict, options))
        except Exception as exc:
            raise self._translate(exc, model) from exc
        return _reply(resp, time.perf_counter() - start)

    def openai_client(self, timeout: float | None = None):
        """An OpenAI client on Ollama's ``/v1`` (the key is ignored by Ollama)."""
        import openai

        return openai.OpenAI(base_url=self.openai_url, api_key="ollama", timeout=timeout or self.timeout, max_retries=0)

    def close(self) -> None:
        try:
            self.client._client.close()
        except Exception:  # noqa: BLE001
            pass
