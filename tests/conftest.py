"""Shared fixtures: one real course-model runtime for the whole session (it is small and fast)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("EDGEAGENTS_THREADS", "1")


@pytest.fixture(scope="session")
def model_spec():
    from edgeagents.models.course import course_model

    return course_model("base")


@pytest.fixture(scope="session")
def runtime(model_spec):
    from edgeagents.runtimes import LlamaCppRuntime

    rt = LlamaCppRuntime(model_spec, n_ctx=512, n_threads=1)
    yield rt
    rt.close()


ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its id.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}

TICKET_TOOL = {
    "type": "function",
    "function": {
        "name": "create_ticket",
        "description": "Open a support ticket.",
        "parameters": {
            "type": "object",
            "properties": {
                "summary": {"type": "string"},
                "priority": {"type": "string", "enum": ["low", "medium", "high"]},
            },
            "required": ["summary", "priority"],
        },
    },
}


@pytest.fixture
def tools():
    return [ORDER_TOOL, TICKET_TOOL]
