"""One place that turns a client's transport failure into the course's typed errors.

Two steps, as openai-python does it for httpx: :func:`describe` reduces an exception of the ``openai`` client, the
``ollama`` client or ``httpx`` to a small :class:`Failure` (what went wrong: ``timeout``, ``unreachable``,
``status``, ``stream_broken`` or ``other``; the HTTP status; the server's own words), then :func:`typed_error`
maps that to one error of :mod:`edgeagents.errors`, with hints about the :class:`Peer` the request went to.

>>> peer = Peer("http://127.0.0.1:8080/v1", model="course", timeout=60)
>>> typed_error(describe(exc), peer)        # e.g. RuntimeUnavailableError("Nothing answers at http://...")

The rules, for every backend alike:

========================================  =============================
what happened                             error
========================================  =============================
no answer within the timeout              RuntimeUnavailableError
nothing listens (or the server's own      RuntimeUnavailableError
upstream, e.g. a model registry, is not
reachable)
HTTP 404, or the server says "not found"  ModelNotFoundError
a 4xx whose text says the context is      ContextOverflowError
exceeded
HTTP 429                                  OverloadedError
any other 4xx                             InvalidRequestError
5xx, a stream broken off mid-answer,      BackendError
anything else
========================================  =============================
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

from edgeagents.errors import (
    BackendError,
    ContextOverflowError,
    EdgeAgentsError,
    InvalidRequestError,
    ModelNotFoundError,
    OverloadedError,
    RuntimeUnavailableError,
)

Kind = Literal["timeout", "unreachable", "status", "stream_broken", "other"]
TEXT_LIMIT = 300  # characters of a server's message kept in ours


@dataclass(frozen=True)
class Failure:
    """What a transport failure was, independent of the client that raised it.

    ``status`` is the HTTP status when the server answered with one; ``text`` the server's own words;
    ``detail`` the client exception (class and message), for failures the server did not explain.
    """

    kind: Kind
    status: int | None = None
    text: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Peer:
    """The server a request went to, as the messages and hints name it."""

    url: str
    name: str = "The server"
    model: str | None = None
    timeout: float | None = None
    how_to_start: str = "Start the server first, or check base_url and the port."
    list_models: str = "List the server's models with runtime.models()."
    when_slow: str = "Is the server busy or stuck?"
    when_offline: str = "The server needs the network for this; do it from local files instead."
    when_cut_off: str = "The server probably stopped or crashed mid-answer: check runtime.health() and the server's log."


# ------------------------------------------------------------------ describing
def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _from_openai(exc: BaseException, answering: bool) -> Failure | None:
    o = sys.modules.get("openai")  # an exception can only come from a client that was imported
    if o is None:
        return None
    if isinstance(exc, o.APITimeoutError):  # a subclass of APIConnectionError: first
        return Failure("timeout", detail=_detail(exc))
    if isinstance(exc, o.APIConnectionError):
        # the client says "connection error" for both: a refused connect, and one lost after the answer began
        return Failure("stream_broken" if answering else "unreachable", detail=_detail(exc))
    if isinstance(exc, o.APIStatusError):
        return Failure("status", exc.status_code, str(exc), _detail(exc))
    return None


def _from_ollama(exc: BaseException) -> Failure | None:
    o = sys.modules.get("ollama")
    if o is None or not isinstance(exc, o.ResponseError):
        return None
    text = str(exc.error)
    low = text.lower()
    unknown_model = exc.status_code == 404 or "not found" in low  # its 404 says "not found, try pulling it"
    if not unknown_model and ("pull" in low or "registry" in low or "dial tcp" in low or "lookup" in low):
        return Failure("unreachable", exc.status_code, text, _detail(exc))  # Ollama answered; its registry did not
    if exc.status_code is None or exc.status_code < 0:  # the client's code for an error sent inside a stream
        return Failure("stream_broken", None, text, _detail(exc))
    return Failure("status", exc.status_code, text, _detail(exc))


def _from_httpx(exc: BaseException) -> Failure | None:
    h = sys.modules.get("httpx")
    if h is None:
        return None
    if isinstance(exc, h.TimeoutException):
        return Failure("timeout", detail=_detail(exc))
    if isinstance(exc, h.ConnectError):  # a NetworkError too: first
        return Failure("unreachable", detail=_detail(exc))
    if isinstance(exc, (h.RemoteProtocolError, h.NetworkError)):
        return Failure("stream_broken", detail=_detail(exc))
    if isinstance(exc, h.HTTPStatusError):
        return Failure("status", exc.response.status_code, exc.response.text, _detail(exc))
    return None


def describe(exc: BaseException, *, answering: bool = False) -> Failure:
    """``exc`` (from the openai or ollama client, httpx, or the socket layer) as a :class:`Failure`.

    ``answering``: the server had begun its answer (a stream was open), so a lost connection is a broken stream.
    """
    for found in (_from_openai(exc, answering), _from_ollama(exc), _from_httpx(exc)):
        if found is not None:
            return found
    if isinstance(exc, TimeoutError):
        return Failure("timeout", detail=_detail(exc))
    if isinstance(exc, ConnectionError):  # the ollama client raises the builtin one when nothing listens
        return Failure("stream_broken" if answering else "unreachable", detail=_detail(exc))
    return Failure("other", detail=_detail(exc))


# ------------------------------------------------------------------ mapping
def _overflows_context(low: str) -> bool:
    return ("context" in low and ("length" in low or "window" in low or "exceed" in low or "size" in low)) \
        or "max_model_len" in low


def typed_error(failure: Failure, peer: Peer, *, chunks: int | None = None) -> EdgeAgentsError:
    """The typed error, with its hint, for ``failure`` on a request to ``peer``.

    ``chunks``: how many chunks of a stream had arrived, when the failure broke one off.
    """
    f, who = failure, peer.name
    text = f.text[:TEXT_LIMIT]
    if f.kind == "timeout":
        within = f" within {peer.timeout:.0f} s" if peer.timeout is not None else " in time"
        return RuntimeUnavailableError(f"{who} at {peer.url} did not answer{within}.", hint=peer.when_slow)
    if f.kind == "unreachable":
        if f.text:  # the server answered: what it needs behind it is out of reach
            return RuntimeUnavailableError(f"{who} at {peer.url} could not reach what it needs (offline?): {text}",
                                           hint=peer.when_offline)
        return RuntimeUnavailableError(f"Nothing answers at {peer.url}.", hint=peer.how_to_start)
    if f.kind == "stream_broken":
        after = f" (after {chunks} chunk(s))" if chunks is not None else ""
        if f.text:
            return BackendError(f"{who} at {peer.url} reported an error while answering{after}: {text}",
                                hint=peer.when_cut_off)
        why = f": {f.detail}" if f.detail else ""
        return BackendError(f"{who} at {peer.url} closed the stream before it finished{after}{why}",
                            hint=peer.when_cut_off)
    if f.kind == "status" and f.status is not None:
        code, low = f.status, f.text.lower()
        if peer.model is not None and (code == 404 or "not found" in low):
            return ModelNotFoundError(f"{who} at {peer.url} does not know the model {peer.model!r}: {text}",
                                      hint=peer.list_models)
        if 400 <= code < 500 and _overflows_context(low):
            return ContextOverflowError.from_message(f"{who} says the request does not fit its context: {text}")
        if code == 429:
            return OverloadedError(f"{who} at {peer.url} is at capacity (HTTP 429): {text}",
                                   hint="Retry in a moment, or send fewer requests at once.")
        if code in (401, 403):
            return InvalidRequestError(f"{who} at {peer.url} refused the credentials (HTTP {code}): {text}",
                                       hint="Check the API key (or token) the client sends.")
        if 400 <= code < 500:
            return InvalidRequestError(f"{who} rejected the request (HTTP {code}): {text}",
                                       hint="The server's words above say which part of the request to change.")
        return BackendError(f"{who} failed with HTTP {code}: {text}")
    return BackendError(f"The request to {peer.url} failed: {f.detail}")


def translate(exc: BaseException, peer: Peer, *, answering: bool = False, chunks: int | None = None) -> EdgeAgentsError:
    """:func:`describe` then :func:`typed_error`; a typed error passes through unchanged."""
    if isinstance(exc, EdgeAgentsError):
        return exc
    return typed_error(describe(exc, answering=answering), peer, chunks=chunks)
