"""The capstone's chat page in a real browser (Debian's chromium, driven by Playwright), on the real course model.

A learner's two turns are typed into the page; each must show the agent's reply, the tool calls the service
reported for that turn (the page draws them from the response, so they must equal the system's own record),
and the turn's latency. Skips, saying why, where chromium or playwright is missing.
"""

from __future__ import annotations

import pytest

pytest.importorskip("agent_framework", reason="needs the agents extra: pip install -e '.[agents]'")
pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")

from edgeagents.agents.store import BusinessStore  # noqa: E402
from edgeagents.capstone.service import serve  # noqa: E402
from edgeagents.capstone.system import CapstoneSystem  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

TURN_MS = 600_000  # a safety net far above a turn's measured ~10-20 s on one thread


def test_the_chat_page_shows_each_turns_reply_tool_calls_and_latency(browser):
    import edgeagents

    system = CapstoneSystem(store=BusinessStore.open_memory(),
                            runtime_factory=lambda: edgeagents.open_runtime(n_ctx=2048))
    try:
        with serve(system) as server:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url)
            assert page.title() == "Edge Agents Lab · capstone chat"
            for n, text in enumerate(["Where is my order ORD-1001?", "How long does shipping take?"], start=1):
                page.fill("#message", text)
                page.click("#send")
                page.wait_for_selector(f".turn:nth-child({n}) .latency", timeout=TURN_MS)
                turn = page.locator(".turn").nth(n - 1)
                record = system.turns[n - 1]
                assert turn.locator(".user").inner_text() == f"you: {text}"
                assert turn.locator(".agent").inner_text().strip() == f"agent: {record.text}".strip()
                shown = [el.get_attribute("data-tool") for el in turn.locator(".tool").all()]
                assert shown == [c["name"] for c in record.tool_calls]
                assert float(turn.locator(".latency").get_attribute("data-seconds")) == pytest.approx(record.seconds,
                                                                                                      abs=0.001)
            # both turns were one conversation: the page kept the session the service gave it
            assert system.turns[0].session_id == system.turns[1].session_id
            assert page.locator("#session").inner_text() == system.turns[0].session_id
            assert errors == []
            page.close()
    finally:
        system.close()
