"""agents.security.redact: what it masks, and that it stays linear on adversarial text (it runs on every tool result)."""

from __future__ import annotations

import random
import re

import pytest

from edgeagents.agents.security import redact

# The regexes redact() used before it was made linear: the reference for what it must still produce.
_OLD_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_OLD_PHONE = re.compile(r"\+\d[\d ()-]{7,}\d")


def _reference(text: str) -> str:
    text = _OLD_EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _OLD_PHONE.sub(lambda m: m.group(0)[:3] + " *** **" + m.group(0)[-2:], text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to jane.doe@example.com today.", "Write to j***@example.com today."),
        ("call +44 20 7946 0001 or ada@example.co.uk", "call +44 *** **01 or a***@example.co.uk"),
        ("a@b.com, c.d+tag@mail.example.org", "a***@b.com, c***@mail.example.org"),
        ("..foo@x.com", "..f***@x.com"),  # the address starts at the first word boundary, as before
        ("a@b.com.x@c.org", "a***@b.com.***@c.org"),  # a second address right after the first
        ("no domain: user@localhost, user@", "no domain: user@localhost, user@"),
        ("placed 2026-11-22T04:30:00, +12 short", "placed 2026-11-22T04:30:00, +12 short"),
        ("", ""),
    ],
)
def test_redact_masks_emails_and_phones(text, expected):
    assert redact(text) == expected
    assert _reference(text) == expected


def test_redact_matches_the_previous_regexes_on_random_text():
    rng = random.Random(0)
    for alphabet in ("ab.@", "abc.@-_ ", "ab.@c9_%+-é ", "a1+ ()-@.b"):
        for _ in range(3000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            assert redact(text) == _reference(text), text


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        "a." * 2_500_000,  # 100 kB of this took the old regex 8 s; 5 MB, hours
        "a." * 2_500_000 + "@example.com",
        "a-" * 2_500_000 + "@",
        "@" + "a." * 2_500_000,
        "x@" * 1_000_000,
        "+1" + "(" * 5_000_000,
    ],
    ids=["dots", "dots-then-address", "dashes-then-at", "at-then-dots", "many-ats", "phone-prefix"],
)
def test_redact_is_linear_on_multi_megabyte_adversarial_text(text):
    out = redact(text)
    if text.endswith("@example.com"):
        assert out == "a***@example.com"
    else:
        assert out == text  # nothing in these is an address or a phone number
