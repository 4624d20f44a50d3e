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

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
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
    """Mask e-mail addresses (``a***@example.com``) and phone numbers (``+44 *** **01``)."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: m.group(0)[:3] + " *** **" + m.group(0)[-2:], text)
