"""Typed errors shared by every part of the library.

Each error carries a ``hint``: one sentence that tells the learner what to do next.
Runtimes raise these (never a bare ``ValueError`` or a backend's own exception), so a
notebook can catch :class:`EdgeAgentsError` and print something useful.
"""

from __future__ import annotations


class EdgeAgentsError(Exception):
    """Base class of every error the library raises on purpose."""

    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  -> {self.hint}"
        return self.message


class RuntimeUnavailableError(EdgeAgentsError):
    """The runtime cannot be used here: its package is missing or its server is down."""

    default_hint = "Run `edgeagents doctor` to see which runtimes this machine has and how to add one."


class ServerStartError(RuntimeUnavailableError):
    """A server process exited while starting, or did not become ready in time; ``log_tail`` says why."""

    def __init__(self, message: str, *, log_tail: str = "", returncode: int | None = None,
                 hint: str | None = None) -> None:
        self.log_tail = log_tail
        self.returncode = returncode
        super().__init__(f"{message}\n{log_tail}" if log_tail else message, hint=hint)


class ModelNotFoundError(EdgeAgentsError):
    """The model file, folder or alias does not exist."""

    default_hint = "Run `edgeagents models prepare` to assemble the course model, or check the path or alias."


class CorruptModelError(EdgeAgentsError):
    """A model file exists but is truncated or not what it claims to be."""

    default_hint = "Delete the file and run `edgeagents models prepare` to rebuild it."


class InvalidRequestError(EdgeAgentsError):
    """The request itself is wrong: empty prompt, bad parameter, invalid schema..."""


class ContextOverflowError(InvalidRequestError):
    """The prompt plus the tokens asked for do not fit in the model's context window."""

    def __init__(self, prompt_tokens: int, max_tokens: int, context_length: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.context_length = context_length
        super().__init__(
            f"The prompt is {prompt_tokens} tokens and {max_tokens} more were asked for, "
            f"but the context window holds {context_length}.",
            hint="Shorten the prompt, lower max_tokens, or open the runtime with a larger n_ctx.",
        )

    @classmethod
    def from_message(cls, message: str) -> ContextOverflowError:
        """The same error when only a server's words are known, not the token counts (they are None then)."""
        err = cls.__new__(cls)
        err.prompt_tokens = err.max_tokens = err.context_length = None  # type: ignore[assignment]
        InvalidRequestError.__init__(err, message,
                                     hint="Shorten the prompt, lower max_tokens, or start the server with a larger context.")
        return err


class UnsupportedFeatureError(InvalidRequestError):
    """The runtime does not support this feature (for example log-probabilities over HTTP)."""


class RuntimeClosedError(InvalidRequestError):
    """The runtime was closed; it cannot serve requests any more."""

    default_hint = "Open a new runtime, for example `edgeagents.open_runtime()`."


class StreamInterruptedError(InvalidRequestError):
    """A half-read stream was cancelled by a newer request on the same runtime."""

    default_hint = "Finish reading one stream before starting the next request, or use one runtime per thread."


class OverloadedError(EdgeAgentsError):
    """The service already has as many requests running or waiting as it accepts (HTTP 429)."""

    default_hint = "Retry in a moment; the service answers one request at a time per model."


class ToolCallError(EdgeAgentsError):
    """A tool call is malformed, names an unknown tool, has wrong arguments, or the tool raised."""

    def __init__(self, message: str, *, raw: str = "", tool_name: str | None = None, hint: str | None = None) -> None:
        self.raw = raw
        self.tool_name = tool_name
        super().__init__(
            message,
            hint=hint
            or "Small models often break tool calls: use tool_choice with a named function "
            "to force a valid call, or retry with temperature=0.",
        )


class BackendError(EdgeAgentsError):
    """The backend failed while serving a request (it crashed, died mid-stream or answered garbage)."""

    default_hint = "Check that the runtime or server is still running; `runtime.health()` tells."


# --- model forge (lib/edgeagents/models/forge) -------------------------------------------


class ConversionError(EdgeAgentsError):
    """A model conversion (GGUF -> F16, quantization, Hugging Face, ONNX) failed; nothing partial was kept."""

    default_hint = "Read the message above; `edgeagents models build --force` rebuilds from scratch."


# --- Foundry Local (lab 08) -------------------------------------------------------------


class ModelInUseError(InvalidRequestError):
    """The model cannot be unloaded or unregistered while a session (an unfinished stream) still uses it."""

    default_hint = "Finish reading the stream (or call stream.close()) before unloading the model."
