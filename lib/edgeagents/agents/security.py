"""Input checks and output filtering for agents that touch a business system.

* :func:`check_user_input` refuses what should never reach the model (too long, control
  characters) and flags text that looks like an injection attempt, so the caller can log it.
* :func:`redact` masks e-mail addresses and phone numbers before text leaves the agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgeagents.errors import InvalidRequestError

MAX_INPUT_CHARS = 2000

# An e-mail address is found from its "@", not by a regex that tries every start: that one,
# \b[local]+@domain, rescans the rest of a run like "a.a.a.a..." from each of its word boundaries
# (quadratic: 100 kB took 8 s). Here every run of local-part characters is read once.
_LOCAL = "A-Za-z0-9._%+-"
_LOCAL_RUN = re.compile(rf"(?<![{_LOCAL}])[{_LOCAL}]+(?=@)")  # starts only where a run starts
_LOCAL_TAIL = re.compile(rf"[{_LOCAL}]+(?=@)")  # a run's rest, after an address that ended inside it
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_BOUNDARY = re.compile(r"\b")
_PHONE = re.compile(r"\+\d[\d ()-]{7,}\d")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SUSPICIOUS = [
    (re.compile(r"ignore (all |any )?(previous|prior|above) (instructions|rules)", re.I), "instruction override"),
    (re.compile(r"\b(drop|delete|truncate|alter|update|insert)\s+(table|from|into)\b", re.I), "SQL statement"),
    (re.compile(r"('|\")\s*(or|and)\s+('?\d+'?\s*=\s*'?\d+|'[^']*'\s*=\s*')", re.I), "SQL tautology"),
    (re.compile(r";\s*--|--\s*$|/\*", re.M), "SQL comment"),
    (re.compile(r"\b(rm -rf|os\.system|subprocess|exec\(|eval\()", re.I), "code execution"),
    (re.compile(r"<\s*/?\s*(start_of_turn|end_of_turn|tool_call|tool_response)", re.I), "chat-format markers"),
]


@dataclass(frozen=True)
class InputCheck:
    text: str
    flags: tuple[str, ...]

    @property
    def suspicious(self) -> bool:
        return bool(self.flags)


def check_user_input(text: object, *, max_chars: int = MAX_INPUT_CHARS) -> InputCheck:
    """Validate a user message: a non-empty string, at most ``max_chars``, no control characters.

    Returns the cleaned text and the names of any injection patterns found (the text is still
    passed on: tools are what must refuse, but the flags go to the audit log).
    """
    if not isinstance(text, str):
        raise InvalidRequestError(f"A user message must be text, got {type(text).__name__}.",
                                  hint="Pass the message as a string.")
    cleaned = _CONTROL.sub("", text).strip()
    if not cleaned:
        raise InvalidRequestError("The user message is empty.", hint="Type a request, e.g. 'Where is order ORD-1001?'.")
    if len(cleaned) > max_chars:
        raise InvalidRequestError(f"The user message is {len(cleaned)} characters; the limit is {max_chars}.",
                                  hint="Shorten the message or raise max_chars.")
    flags = tuple(name for rx, name in _SUSPICIOUS if rx.search(cleaned))
    return InputCheck(cleaned, flags)


def redact(text: str) -> str:
    """Mask e-mail addresses (``a***@example.com``) and phone numbers (``+44 *** **01``), in linear time."""
    return _PHONE.sub(lambda m: m.group(0)[:3] + " *** **" + m.group(0)[-2:], _redact_emails(text))


def _redact_emails(text: str) -> str:
    """Replace each ``x...@domain`` with ``x***@domain``: the address starts at the first word boundary
    of the local-part run before the "@" (as ``\\b[local]+@`` would), never before the previous address's end."""
    out: list[str] = []
    done = 0  # text[:done] is in out
    pos = 0
    while True:
        # right after an address, the run it ended in may go on to another "@"
        run = _LOCAL_TAIL.match(text, pos) if pos and pos == done else None
        run = run or _LOCAL_RUN.search(text, pos)
        if run is None:
            break
        at = run.end()
        start = _BOUNDARY.search(text, run.start(), at)
        domain = _DOMAIN.match(text, at + 1)
        if start is None or start.start() >= at or domain is None:
            pos = at + 1
            continue
        out += [text[done : start.start()], text[start.start()], "***@", domain.group(0)]
        done = pos = domain.end()
    out.append(text[done:])
    return "".join(out)
