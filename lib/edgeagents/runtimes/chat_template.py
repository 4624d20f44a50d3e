"""The course chat format: how a conversation becomes the text a Gemma model reads.

The course model is Google's *base* Gemma 3 270M. Its GGUF ships no chat template, and a
base model was never taught to follow one. The course therefore defines its own format,
built on Gemma's turn markers, and its LoRA adapter (lab 07) is trained on exactly this
format. Every runtime that renders prompts itself uses this module, so there is one format.

    <start_of_turn>user
    {system text}

    {user text}<end_of_turn>
    <start_of_turn>model
    {reply}<end_of_turn>

Tools are listed in the first user turn between ``<tools>`` tags, one JSON object a line.
A tool call is a model turn holding ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
(the Hermes style, which vLLM's ``hermes`` parser also reads). A tool result comes back in a
user turn between ``<tool_response>`` tags.

The renderer returns *segments*: turn markers are ``special`` (tokenized as control tokens);
the learner's text is not, so a user who types ``<start_of_turn>`` cannot forge a turn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgeagents.runtimes.base import Message, ToolSpec

START = "<start_of_turn>"
END = "<end_of_turn>"
TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

TOOLS_PREAMBLE = (
    "You can call these tools. Each line describes one tool as JSON:\n<tools>\n{tools}\n</tools>\n"
    'To call a tool, reply with only <tool_call>{{"name": "<tool name>", "arguments": {{...}}}}</tool_call>. '
    "If no tool fits, answer directly."
)


@dataclass(frozen=True)
class Segment:
    text: str
    special: bool = False


def tool_line(tool: ToolSpec) -> str:
    fn = tool["function"]
    return json.dumps(
        {"name": fn["name"], "description": fn.get("description", ""), "parameters": fn.get("parameters", {})},
        ensure_ascii=False,
        separators=(", ", ": "),
    )


def tools_block(tools: Sequence[ToolSpec]) -> str:
    return TOOLS_PREAMBLE.format(tools="\n".join(tool_line(t) for t in tools))


def format_tool_call(name: str, arguments: dict[str, Any]) -> str:
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"{TOOL_CALL_OPEN}{body}{TOOL_CALL_CLOSE}"


def _tool_result_text(msg: Message, names_by_id: dict[str, str]) -> str:
    name = msg.get("name") or names_by_id.get(msg.get("tool_call_id", ""), "")
    content = msg.get("content") or ""
    body = json.dumps({"name": name, "content": content}, ensure_ascii=False)
    return f"<tool_response>\n{body}\n</tool_response>"


def _assistant_text(msg: Message) -> str:
    parts = [msg.get("content") or ""]
    for call in msg.get("tool_calls") or []:
        fn = call.get("function", {})
        args = fn.get("arguments", {})
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError:
                args = {"_raw": args}
        parts.append(format_tool_call(fn.get("name", ""), args))
    return "".join(parts)


def render_chat(
    messages: Sequence[Message], tools: Sequence[ToolSpec] | None = None, *, add_generation_prompt: bool = True
) -> list[Segment]:
    """Render a conversation as segments of the course chat format.

    System messages (and the tool list) are folded into the first user turn, as Gemma expects.
    Consecutive user and tool messages share one user turn.
    """
    system = "\n\n".join(m.get("content") or "" for m in messages if m["role"] == "system").strip()
    preface = "\n\n".join(p for p in (system, tools_block(tools) if tools else "") if p)

    names_by_id: dict[str, str] = {}
    turns: list[tuple[str, list[str]]] = []  # (role, texts)
    for msg in messages:
        role = msg["role"]
        if role == "system":
            continue
        if role == "assistant":
            for call in msg.get("tool_calls") or []:
                names_by_id[call.get("id", "")] = call.get("function", {}).get("name", "")
            turns.append(("model", [_assistant_text(msg)]))
            continue
        text = _tool_result_text(msg, names_by_id) if role == "tool" else msg.get("content") or ""
        if turns and turns[-1][0] == "user":
            turns[-1][1].append(text)
        else:
            turns.append(("user", [text]))

    segments: list[Segment] = []
    first_user = True
    for role, texts in turns:
        body = "\n\n".join(texts)
        if role == "user" and first_user:
            body = f"{preface}\n\n{body}" if preface else body
            first_user = False
        segments.append(Segment(f"{START}{role}\n", special=True))
        segments.append(Segment(body))
        segments.append(Segment(f"{END}\n", special=True))
    if add_generation_prompt:
        segments.append(Segment(f"{START}model\n", special=True))
    return segments


CONTROL_MARKERS = (START, END, "<bos>", "<eos>")


def escape_markers(text: str) -> str:
    """Break control markers a user typed (``<start_of_turn>`` → ``<\u200bstart_of_turn>``).

    A runtime that takes the prompt as one string tokenizes markers wherever they appear, so
    a user could otherwise forge a turn. The zero-width space keeps the text readable.
    """
    for marker in CONTROL_MARKERS:
        text = text.replace(marker, "<\u200b" + marker[1:])
    return text


def render_chat_text(
    messages: Sequence[Message],
    tools: Sequence[ToolSpec] | None = None,
    *,
    add_generation_prompt: bool = True,
    escape: bool = False,
) -> str:
    """The same conversation as one string (for servers that take raw prompts, and for reading).

    With ``escape=True`` the markers inside message text are broken (see :func:`escape_markers`),
    so only the renderer's own markers act as turn boundaries.
    """
    segments = render_chat(messages, tools, add_generation_prompt=add_generation_prompt)
    return "".join(s.text if s.special or not escape else escape_markers(s.text) for s in segments)
