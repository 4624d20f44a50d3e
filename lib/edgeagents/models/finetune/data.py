"""Training data for the course adapter, generated in code: seeded, no downloads.

Every example is rendered with the course chat format (:mod:`edgeagents.runtimes.chat_template`),
the very renderer the runtimes use at inference, so training and inference see the same text.
The tools are the course's own business tools (:data:`edgeagents.agents.tools.TOOL_SPECS`).

Families (``Example.kind``):

- ``tool``: a request that needs one of the eight tools -> a ``<tool_call>``; the tool's result
  comes back (as the renderer shows role ``tool``) -> an answer that uses it.
- ``ticket``: a problem report -> ``create_support_ticket`` with a priority read from urgency
  cues; the four priorities are drawn equally often.
- ``no_tool``: arithmetic, greetings, small facts with tools on offer -> a direct answer, no call.
- ``ask_id``: a request that needs an id the user did not give -> ask for it, no call.
- ``direct``: plain chat without tools.
- ``complexity``: the router's few-shot prompt (:func:`edgeagents.agents.multi._few_shot` with
  ``TIER_EXAMPLES``) -> `` simple`` / `` moderate`` / `` complex``, the three drawn equally often.

:func:`encode_example` turns an example into token ids and labels (``-100`` where no loss is
taken: everything but the model's turns, or the label word of a complexity prompt).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from edgeagents.agents.tools import PRIORITIES, TIMEZONES, TOOL_SPECS
from edgeagents.errors import InvalidRequestError
from edgeagents.runtimes.base import Message, ToolSpec
from edgeagents.runtimes.chat_template import END, START, render_chat

IGNORE = -100
TIERS = ("simple", "moderate", "complex")
KINDS = ("tool", "ticket", "no_tool", "ask_id", "direct", "complexity")
DEFAULT_MIX = {"tool": 0.36, "ticket": 0.08, "no_tool": 0.16, "ask_id": 0.10, "direct": 0.08, "complexity": 0.22}


@dataclass
class Example:
    """One training conversation (``messages`` + ``tools``) or one scored prompt (``prompt`` + ``completion``)."""

    kind: str
    messages: list[Message] = field(default_factory=list)
    tools: list[ToolSpec] | None = None
    prompt: str = ""
    completion: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "messages": self.messages, "tools": [t["function"]["name"] for t in self.tools or []],
                "prompt": self.prompt, "completion": self.completion, "meta": self.meta}


# ------------------------------------------------------------------ vocabulary (training side only)
# The held-out set (edgeagents/data/heldout_agent_eval.jsonl) is written by hand with other
# phrasings, ids, products and urgency words; keep the two apart when editing either.
NAMES = ["Mia", "Omar", "Lena", "Tomas", "Aisha", "Jonas", "Priya", "Diego", "Elif", "Noah", "Sara", "Ivan",
         "Chen", "Laura", "Kofi", "Anna", "Yusuf", "Marta", "Ben", "Nadia"]
CITIES = ["Riga", "Porto", "Lyon", "Gdansk", "Tartu", "Bremen", "Malmo", "Cork", "Bergen", "Turin", "Graz", "Leeds"]
TIERS_CUSTOMER = ["gold", "silver", "bronze"]
DEVICES = ["router", "smart camera", "home hub", "door sensor", "smart plug", "thermostat", "doorbell",
           "mesh extender", "light strip", "smoke alarm"]
PRODUCT_NAMES = {"router": "Edge router R2", "smart camera": "Smart camera C1", "home hub": "Home hub H3",
                 "door sensor": "Door sensor S1", "smart plug": "Smart plug P2", "thermostat": "Thermostat T4",
                 "doorbell": "Video doorbell D2", "mesh extender": "Mesh extender M1", "light strip": "Light strip L5",
                 "smoke alarm": "Smoke alarm A3"}
SYMPTOMS = ["keeps rebooting", "will not connect to wifi", "shows offline", "stopped responding", "drops the connection",
            "will not power on", "makes a clicking noise", "lost all its settings", "is very slow", "blinks red",
            "will not pair", "arrived with a cracked case", "reports the wrong temperature", "will not update"]
ORDER_STATUSES = ["shipped", "processing", "backordered", "delivered", "cancelled"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
SYSTEMS = ["", "", "You are the support assistant of an electronics shop. Use the tools when they help."]

# urgency cues by priority: many different words so the model learns the idea, not one keyword
CUES: dict[str, list[str]] = {
    "urgent": ["this is an emergency", "our whole shop is down right now", "we are losing sales every minute",
               "it is critical, please act immediately", "nothing works and customers are waiting", "ASAP please",
               "our payment terminals are all offline", "the alarm system is dead tonight",
               "it is a safety issue", "everything stopped, we need help this instant", "top priority, drop everything"],
    "high": ["I need it working today", "it stopped working completely", "I cannot do my job without it",
             "this is important", "please fix it before tomorrow", "it is seriously affecting my work",
             "it broke this morning and I rely on it", "it is a big problem for us", "please treat this as high priority",
             "we have an event tomorrow and need it fixed"],
    "medium": ["it happens now and then", "it is annoying but I can live with it for a few days",
               "it happens sometimes", "sort it out this week if you can", "it is intermittent",
               "once or twice a day", "it is a moderate issue", "not an emergency, but it should be looked at",
               "it is inconvenient", "a normal priority is fine"],
    "low": ["no rush at all", "whenever you have time", "it is only cosmetic", "just a minor thing",
            "low priority", "it is not urgent", "just a small suggestion", "any time next month is fine",
            "it does not really affect anything", "only a tiny detail"],
}

KB_TOPICS = [  # (question, query)
    ("How do I reset my router?", "router reset"), ("What is your return policy?", "return policy"),
    ("How long does shipping take?", "shipping time"), ("Is there a warranty on the devices?", "warranty"),
    ("My hub will not pair with a sensor, how do I fix it?", "hub pairing"),
    ("How do I fix a camera that shows offline?", "camera offline"), ("Can I get a refund?", "refund"),
    ("How do I update the firmware?", "firmware update"), ("How do I change the wifi password?", "wifi password"),
    ("What do I do if a device is broken?", "broken device"), ("How do I cancel an order?", "cancel order"),
    ("Do you ship outside the EU?", "shipping countries"),
]
KB_PHRASES = ["{q}", "Quick question: {q}", "Can you check the help articles? {q}", "{q} Thanks.",
              "Hi! {q}", "I was wondering: {q}"]


def _cid(rng: random.Random) -> str:
    return f"C{rng.randint(1, 999):03d}"


def _oid(rng: random.Random) -> str:
    return f"ORD-{rng.randint(1000, 9999)}"


def _date(rng: random.Random) -> tuple[str, str]:
    """(ISO date in 2026, how a user writes it)."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    iso = f"2026-{month:02d}-{day:02d}"
    spoken = rng.choice([iso, iso, f"{day} {MONTHS[month - 1]} 2026", f"{MONTHS[month - 1]} {day}, 2026"])
    return iso, spoken


# the specialists' allowlists of lab 12 (agents/multi.py): the other tool lists a course agent shows
TOOL_SETS = [
    ("get_current_time", "schedule_callback"),
    ("search_knowledge_base", "run_system_diagnostics", "create_support_ticket"),
    ("lookup_order", "lookup_customer", "escalate_to_human"),
]


def _pick_tools(rng: random.Random, must: Sequence[str] = ()) -> list[ToolSpec]:
    """The full tool list most of the time (what the labs show); sometimes a specialist's list.

    Few distinct lists keep the rendered tool block shared by many examples, which the trainer
    exploits (the shared prefix is computed once per batch).
    """
    names = list(TOOL_SPECS)
    fitting = [s for s in TOOL_SETS if set(must) <= set(s)]
    if fitting and rng.random() < 0.3:
        chosen = set(rng.choice(fitting))
        return [TOOL_SPECS[n] for n in names if n in chosen]
    return [TOOL_SPECS[n] for n in names]


def share_key(example: "Example") -> str | None:
    """Examples with the same key start with the same text (system + tool list, or the router prompt)."""
    if example.kind == "complexity":
        return "complexity"
    if not example.tools:
        return None
    system = " ".join(m.get("content") or "" for m in example.messages if m["role"] == "system")
    return system + "|" + ",".join(t["function"]["name"] for t in example.tools)


def _system(rng: random.Random) -> list[Message]:
    text = rng.choice(SYSTEMS)
    return [{"role": "system", "content": text}] if text else []


def _call_msgs(name: str, args: dict[str, Any], result: dict[str, Any], answer: str, call_id: str
               ) -> list[Message]:
    return [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]},
        {"role": "tool", "tool_call_id": call_id, "name": name, "content": json.dumps(result, ensure_ascii=False)},
        {"role": "assistant", "content": answer},
    ]


def _subject(device: str, symptom: str) -> str:
    return f"{device.capitalize()} {symptom}"[:120]


# ------------------------------------------------------------------ the families
def _tool_example(rng: random.Random) -> Example:
    # uniform over the seven non-ticket tools: run 1 drew tickets 4x as often as any other tool and
    # learned to answer most requests with create_support_ticket
    tool = rng.choice(["get_current_time", "lookup_customer", "lookup_order", "schedule_callback",
                       "run_system_diagnostics", "escalate_to_human", "search_knowledge_base"])
    cid, oid, name = _cid(rng), _oid(rng), rng.choice(NAMES)
    error = rng.random() < 0.08 and tool in ("lookup_customer", "lookup_order")
    if tool == "get_current_time":
        tz = rng.choice(TIMEZONES + [None, None])
        place = {"UTC": "UTC", "Europe/London": "London", "Europe/Vilnius": "Vilnius",
                 "America/New_York": "New York", "Asia/Riyadh": "Riyadh"}.get(tz or "", "")
        user = rng.choice(["What time is it{p}?", "Can you tell me the current time{p}?", "What's the date today{p}?",
                           "What day is it{p}?", "Time check{p}, please."]).format(p=f" in {place}" if place else "")
        args: dict[str, Any] = {"timezone": tz} if tz else {}
        hh, mm = rng.randint(0, 23), rng.randint(0, 59)
        day = rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
        iso = f"2026-11-{rng.randint(1, 28):02d}T{hh:02d}:{mm:02d}"
        result: dict[str, Any] = {"timezone": tz or "UTC", "iso": iso, "weekday": day}
        answer = f"It is {hh:02d}:{mm:02d} on {day}, {iso[:10]}" + (f" in {place}." if place else " (UTC).")
    elif tool == "lookup_customer":
        user = rng.choice(["Who is customer {c}?", "Look up customer {c}, please.", "Can you pull up the details of {c}?",
                           "I'm customer {c}. What tier am I?", "Show me the account {c}.",
                           "Which city is customer {c} in?"]).format(c=cid)
        args = {"customer_id": cid}
        city, tier = rng.choice(CITIES), rng.choice(TIERS_CUSTOMER)
        opens = [_oid(rng) for _ in range(rng.randint(0, 2))]
        if error:
            result = {"error": f"Customer {cid} not found.", "hint": "Check the id."}
            answer = f"I could not find a customer with the id {cid}. Could you check the id?"
        else:
            result = {"customer_id": cid, "name": f"{name} {rng.choice(['Berg', 'Silva', 'Novak', 'Kaya', 'Ito'])}",
                      "email": "[email]", "phone": "[phone]", "tier": tier, "city": city, "open_orders": opens}
            answer = (f"Customer {cid} is {result['name']}, a {tier} customer in {city}"
                      + (f", with open orders {', '.join(opens)}." if opens else ", with no open orders."))
    elif tool == "lookup_order":
        user = rng.choice(["Where is my order {o}?", "What's the status of order {o}?", "Has {o} shipped yet?",
                           "When will order {o} arrive?", "Can you check order {o} for me?",
                           "I'm still waiting for {o}. Any news?", "Track {o}, please."]).format(o=oid)
        args = {"order_id": oid}
        status, device = rng.choice(ORDER_STATUSES), rng.choice(DEVICES)
        eta = None if status in ("delivered", "cancelled") else f"2026-12-{rng.randint(1, 28):02d}"
        if error:
            result = {"error": f"Order {oid} not found.", "hint": "Order ids look like ORD-1001."}
            answer = f"I could not find order {oid}. Could you check the order number?"
        else:
            result = {"order_id": oid, "customer_id": cid, "sku": "SKU-" + device.split()[-1].upper(),
                      "quantity": rng.randint(1, 4), "status": status, "placed_on": f"2026-11-{rng.randint(1, 20):02d}",
                      "eta": eta, "product": PRODUCT_NAMES[device], "customer": name}
            answer = f"Order {oid} ({PRODUCT_NAMES[device]}) is {status}" + (
                f"; it should arrive by {eta}." if eta else ".")
    elif tool == "schedule_callback":
        iso, spoken = _date(rng)
        reason = rng.choice(["a refund", "a billing question", "the delivery", "setting up the hub", "a faulty router",
                             "an upgrade", "the warranty", "a missing item"])
        user = rng.choice(["Please book a callback for {c} on {d} about {r}.", "Can someone call {c} back on {d}? It's about {r}.",
                           "Customer {c} wants a phone call on {d} regarding {r}.",
                           "Schedule a call with {c} for {d}, topic: {r}."]).format(c=cid, d=spoken, r=reason)
        args = {"customer_id": cid, "date": iso, "reason": reason}
        result = {"callback_id": rng.randint(1, 90), "customer_id": cid, "slot": f"{iso} 10:00", "reason": reason,
                  "created_at": "2026-11-26T10:00:00"}
        answer = f"Done: a callback for {cid} is booked on {iso} at 10:00 about {reason}."
    elif tool == "run_system_diagnostics":
        comp, ask = rng.choice([("all", "Run a full health check of this device."), ("cpu", "Is the CPU overloaded?"),
                                ("memory", "Are we low on memory?"), ("disk", "How much disk space is left?"),
                                ("database", "Check the database, please."), ("all", "Is the system healthy?"),
                                ("memory", "Check the RAM usage."), ("disk", "Is the disk full?"),
                                ("cpu", "What's the CPU load right now?")])
        user, args = ask, {"component": comp}
        result = {"component": comp, "host": "x86_64", "status": "healthy"}
        if comp in ("all", "cpu"):
            result.update(cpu_cores=rng.choice([2, 4, 8]), load_1m=round(rng.uniform(0.1, 3.0), 2))
        if comp in ("all", "memory"):
            result.update(memory_available_gb=round(rng.uniform(0.5, 16), 2), memory_used_pct=rng.randint(10, 95))
        if comp in ("all", "disk"):
            result.update(disk_free_gb=round(rng.uniform(1, 400), 1))
        if comp in ("all", "database"):
            result.update(database={"customers": 8, "orders": 10, "tickets": rng.randint(0, 9)})
        facts = [f"{k.replace('_', ' ')} {v}" for k, v in result.items() if k not in ("component", "host", "status", "database")]
        answer = f"The {comp} check says the system is healthy" + (f": {', '.join(facts)}." if facts else ".")
    elif tool == "escalate_to_human":
        why = rng.choice(["I want to speak to a real person", "this is the third time I write, get me a manager",
                          "I'm really angry about this service", "let me talk to a human now",
                          "your bot is useless, I need a supervisor", "I am furious, nobody helps me"])
        user = rng.choice(["{w}. My customer id is {c}.", "Customer {c} here: {w}.", "{w}! ({c})"]).format(w=why, c=cid)
        reason = rng.choice(["customer asks for a human", "customer is upset", "customer wants a manager"])
        args = {"customer_id": cid, "reason": reason}
        result = {"escalated": True, "via": "local queue (cloud helpdesk unreachable)", "ticket_id": rng.randint(1, 90),
                  "note": "a human will pick this up when the link is back"}
        answer = "I'm sorry about this. I have passed your case to a human colleague; they will contact you soon."
    else:  # search_knowledge_base
        q, query = rng.choice(KB_TOPICS)
        user = rng.choice(KB_PHRASES).format(q=q)
        args = {"query": query}
        body = rng.choice(["Hold the reset button for 10 seconds, then wait two minutes.",
                           "Unused items can be returned within 30 days of delivery for a full refund.",
                           "Orders ship within 2 working days; delivery takes 3-5 working days in the EU.",
                           "All devices carry a two-year warranty covering hardware faults."])
        if rng.random() < 0.15:
            result = {"query": query, "articles": []}
            answer = "I found no help article about that. Would you like me to open a support ticket?"
        else:
            result = {"query": query, "articles": [{"id": f"KB-{rng.randint(1, 40):02d}", "title": query.capitalize(),
                                                     "answer": body}]}
            answer = f"According to our help article: {body}"
    call_id = f"call_{rng.randrange(16**8):08x}"
    messages = [*_system(rng), {"role": "user", "content": user}, *_call_msgs(tool, args, result, answer, call_id)]
    return Example("tool", messages, _pick_tools(rng, [tool]), meta={"tool": tool, "arguments": args})


def _ticket_example(rng: random.Random, priority: str) -> Example:
    cid, device, symptom = _cid(rng), rng.choice(DEVICES), rng.choice(SYMPTOMS)
    cue = rng.choice(CUES[priority])
    user = rng.choice([
        "My {d} {s}. {cue}. Please open a ticket for customer {c}.",
        "Customer {c}: the {d} {s}, {cue}.",
        "Open a support ticket for {c}: {d} {s}. {cue}.",
        "Hi, I'm {c}. My {d} {s} and {cue}. Can you log a ticket?",
        "{cue}: the {d} {s}. Account {c}.",
        "Please raise a ticket for customer {c}. Problem: the {d} {s}; {cue}.",
    ]).format(d=device, s=symptom, cue=cue, c=cid)
    user = user[0].upper() + user[1:]
    args = {"customer_id": cid, "subject": _subject(device, symptom), "priority": priority}
    tid = rng.randint(1, 99)
    result = {"ticket_id": tid, "customer_id": cid, "subject": args["subject"], "priority": priority, "status": "open",
              "created_at": "2026-11-26T10:00:00"}
    answer = f"I opened ticket #{tid} with {priority} priority: {args['subject'].lower()}."
    call_id = f"call_{rng.randrange(16**8):08x}"
    messages = [*_system(rng), {"role": "user", "content": user},
                *_call_msgs("create_support_ticket", args, result, answer, call_id)]
    return Example("ticket", messages, _pick_tools(rng, ["create_support_ticket"]),
                   meta={"tool": "create_support_ticket", "arguments": args, "priority": priority})


FACTS = [("What is the capital of France?", "The capital of France is Paris."),
         ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
         ("How many days are in a week?", "A week has seven days."),
         ("What colour do you get by mixing blue and yellow?", "Mixing blue and yellow gives green."),
         ("How many minutes are in an hour?", "An hour has 60 minutes."),
         ("What is the largest planet in our solar system?", "Jupiter is the largest planet in our solar system."),
         ("What does CPU stand for?", "CPU stands for central processing unit."),
         ("What is the boiling point of water at sea level?", "Water boils at 100 °C at sea level."),
         ("Which ocean is the largest?", "The Pacific Ocean is the largest."),
         ("How many legs does a spider have?", "A spider has eight legs.")]
SMALL_TALK = [("Hello!", "Hello! How can I help you today?"), ("Hi there", "Hi! What can I do for you?"),
              ("Thanks a lot!", "You're welcome! Anything else I can help with?"),
              ("Good morning", "Good morning! How can I help?"),
              ("Who are you?", "I'm the shop's assistant. I can look up orders and customers, open tickets and more."),
              ("What can you do?", "I can check orders and customers, open support tickets, book callbacks, "
                                   "search the help articles and check this device's health."),
              ("Bye!", "Goodbye, have a nice day!"), ("That's all, thank you.", "Glad I could help. Goodbye!")]


def _arith(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    op = rng.choice(["+", "-", "*"])
    val = a + b if op == "+" else a - b if op == "-" else a * b
    sym = {"+": "plus", "-": "minus", "*": "times"}[op]
    q = rng.choice([f"What is {a} {op} {b}?", f"What's {a} {sym} {b}?", f"Calculate {a} {op} {b}.",
                    f"How much is {a} {sym} {b}?", f"{a} {op} {b} = ?"])
    return q, f"{a} {op} {b} = {val}."


def _no_tool_example(rng: random.Random, with_tools: bool) -> Example:
    r = rng.random()
    q, a = _arith(rng) if r < 0.45 else rng.choice(FACTS) if r < 0.7 else rng.choice(SMALL_TALK)
    messages = [*_system(rng), {"role": "user", "content": q}, {"role": "assistant", "content": a}]
    kind = "no_tool" if with_tools else "direct"
    return Example(kind, messages, _pick_tools(rng) if with_tools else None, meta={"tool": None})


def _ask_id_example(rng: random.Random) -> Example:
    device, symptom = rng.choice(DEVICES), rng.choice(SYMPTOMS)
    q, a, need = rng.choice([
        ("Where is my order?", "I can check that. What is your order number? It looks like ORD-1234.", "order_id"),
        ("Has my package shipped yet?", "Happy to check. Could you give me the order number (like ORD-1234)?", "order_id"),
        ("When will my delivery arrive?", "Let me look it up: what is the order number? It looks like ORD-1234.", "order_id"),
        (f"My {device} {symptom}. Please open a ticket.",
         "I can open a ticket. What is your customer id? It looks like C123.", "customer_id"),
        ("Please call me back tomorrow.", "Sure. What is your customer id (like C123), and which date suits you?",
         "customer_id"),
        ("What tier is my account?", "I can look that up. What is your customer id? It looks like C123.", "customer_id"),
        ("I want to talk to a manager!", "I'm sorry. To hand you over to a colleague I need your customer id (like C123).",
         "customer_id"),
    ])
    messages = [*_system(rng), {"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return Example("ask_id", messages, _pick_tools(rng), meta={"tool": None, "missing": need})


# complexity: requests built from parts, so the label follows from how much the request asks
SIMPLE_REQ = ["What time is it in {tz}?", "Where is order {o}?", "Look up customer {c}.", "Has order {o} shipped?",
              "What is your return policy?", "How long does shipping take?", "Is the {d} in stock?",
              "What's the price of the {d}?", "What day is it today?", "Show me the status of {o}.",
              "Which city is customer {c} in?", "Do you have a warranty?", "Translate 'hello' into French.",
              "What is 12 times 8?", "Is the shop open on Sunday?"]
MODERATE_REQ = ["My {d} {s}, what should I try?", "Book a callback for {c} on {date} about a refund.",
                "The {d} {s} since the update; how do I fix it?", "Open a ticket for {c}: the {d} {s}.",
                "Compare the {d} and the {d2} for a small flat.", "Help me set up the {d} with my wifi.",
                "I want to return the {d} I bought last week; how does that work?",
                "My {d} {s} and I already restarted it; what next?",
                "Explain how to pair the {d} with the hub, step by step.",
                "Summarise the warranty terms for the {d} in two sentences."]
COMPLEX_REQ = ["Two orders are late, the {d} {s} and I was charged twice; sort it all out.",
               "Plan the rollout of {n} {d}s across {k} shops, with budget, timeline and risks.",
               "Our {d}s {s}, the {d2}s {s2} and the network is slow in {k} branches; find the root cause and a fix plan.",
               "Audit all orders from last quarter, find the late ones, refund them and write to each customer.",
               "Design a monitoring strategy for {n} devices across {k} sites and explain the trade-offs.",
               "Order {o} never arrived, {o2} came broken, the {d} {s}, and I want a refund and a callback; handle everything.",
               "Compare three security setups for {k} stores, estimate the costs and recommend one with reasons.",
               "Write a migration plan to move {n} {d}s to new firmware without downtime, including rollback."]
TIER_POOLS = {"simple": SIMPLE_REQ, "moderate": MODERATE_REQ, "complex": COMPLEX_REQ}


def _complexity_example(rng: random.Random, tier: str) -> Example:
    from edgeagents.agents.multi import TIER_EXAMPLES, _few_shot

    d, d2 = rng.sample(DEVICES, 2)
    s, s2 = rng.sample(SYMPTOMS, 2)
    text = rng.choice(TIER_POOLS[tier]).format(
        tz=rng.choice(["London", "Vilnius", "New York", "Riyadh", "UTC"]), o=_oid(rng), o2=_oid(rng), c=_cid(rng),
        d=d, d2=d2, s=s, s2=s2, date=_date(rng)[1], n=rng.choice([20, 50, 120, 300]), k=rng.randint(3, 12))
    return Example("complexity", prompt=_few_shot(TIER_EXAMPLES, "Complexity", text), completion=f" {tier}",
                   meta={"tier": tier, "text": text})


def generate(n: int = 600, seed: int = 0, mix: dict[str, float] | None = None) -> list[Example]:
    """``n`` examples, the same list for the same ``(n, seed, mix)``; labels balanced within each family."""
    if n < 1:
        raise InvalidRequestError(f"n={n} must be at least 1.", hint="Ask for a few hundred examples to train.")
    mix = dict(mix or DEFAULT_MIX)
    unknown = set(mix) - set(KINDS)
    if unknown or not mix or sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise InvalidRequestError(f"Bad mix {mix!r}.", hint=f"Give non-negative weights for some of {KINDS}.")
    rng = random.Random(seed)
    total = sum(mix.values())
    counts = {k: int(round(n * w / total)) for k, w in mix.items()}
    counts[max(counts, key=counts.__getitem__)] += n - sum(counts.values())
    out: list[Example] = []
    for kind, count in counts.items():
        for i in range(max(0, count)):
            if kind == "tool":
                out.append(_tool_example(rng))
            elif kind == "ticket":
                out.append(_ticket_example(rng, PRIORITIES[i % len(PRIORITIES)]))
            elif kind == "no_tool":
                out.append(_no_tool_example(rng, True))
            elif kind == "direct":
                out.append(_no_tool_example(rng, False))
            elif kind == "ask_id":
                out.append(_ask_id_example(rng))
            else:
                out.append(_complexity_example(rng, TIERS[i % len(TIERS)]))
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------ tokens and labels
Encode = Callable[[str, bool], list[int]]
"""``encode(text, special) -> ids`` without BOS; ``special=True`` parses control tokens such as ``<start_of_turn>``."""


def encode_example(example: Example, encode: Encode, bos_id: int, max_tokens: int = 2048) -> tuple[list[int], list[int]]:
    """Token ids and labels, tokenized segment by segment exactly as the llama.cpp runtime does.

    Labels are ``-100`` except on the model's turns (their text and the ``<end_of_turn>`` that
    ends them) or on the completion of a scored prompt.
    """
    ids, labels = [bos_id], [IGNORE]
    if example.kind == "complexity":
        p = encode(example.prompt, True)
        c = encode(example.completion, False)
        ids += p + c
        labels += [IGNORE] * len(p) + c
    else:
        segments = render_chat(example.messages, example.tools, add_generation_prompt=False)
        in_model = False
        for seg in segments:
            toks = encode(seg.text, seg.special) if seg.text else []
            if seg.special and seg.text.startswith(START):
                in_model = seg.text == f"{START}model\n"
                ids += toks
                labels += [IGNORE] * len(toks)
            elif seg.special and seg.text.startswith(END):
                ids += toks
                # learn to stop: the <end_of_turn> token itself (not the newline after it)
                labels += ([toks[0]] + [IGNORE] * (len(toks) - 1)) if (in_model and toks) else [IGNORE] * len(toks)
            else:
                ids += toks
                labels += list(toks) if in_model else [IGNORE] * len(toks)
    if len(ids) > max_tokens:
        raise InvalidRequestError(f"An example of kind {example.kind!r} has {len(ids)} tokens (max {max_tokens}).",
                                  hint="Raise max_tokens or shorten the templates.")
    return ids, labels


def write_jsonl(examples: Sequence[Example], path: Any) -> None:
    """Save the examples (one JSON object a line) for inspection."""
    from pathlib import Path

    Path(path).write_text("".join(json.dumps(e.as_dict(), ensure_ascii=False) + "\n" for e in examples))
