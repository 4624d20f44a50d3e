"""Training data for the course adapter, generated in code: seeded, no downloads.

Every example is rendered with the course chat format (:mod:`edgeagents.runtimes.chat_template`),
the very renderer the runtimes use at inference, so training and inference see the same text.
The tools are the course's own business tools (:data:`edgeagents.agents.tools.TOOL_SPECS`).

Families (``Example.kind``):

- ``tool``: a request that needs one of the eight tools -> a ``<tool_call>``; the tool's result
  comes back (as the renderer shows role ``tool``) -> an answer that uses it.
- ``ticket``: a problem report -> ``create_support_ticket`` with a priority read from the whole
  report: how bad the fault is and the urgency cues around it; the four priorities equally often.
- ``no_tool``: arithmetic, greetings, small facts with tools on offer -> a direct answer, no call.
- ``ask_id``: a request that needs an id the user did not give -> ask for it, no call.
- ``direct``: plain chat without tools.
- ``complexity``: the router's few-shot prompt (:func:`edgeagents.agents.multi._few_shot` with
  ``TIER_EXAMPLES``) -> `` simple`` / `` moderate`` / `` complex``, the three drawn equally often.
- ``gen_single``, ``gen_choose``, ``gen_none``, ``gen_ask``, ``gen_multi``: general tool calling on
  hundreds of generated tools from everyday domains (:mod:`edgeagents.finetune.tooldata`).
  :data:`DEFAULT_MIX` (what the shipped adapter was trained on) leaves them out; ask for them with
  ``mix=GENERAL_TOOLS_MIX``.

:func:`encode_example` turns an example into token ids and labels (``-100`` where no loss is
taken: everything but the model's turns, or the label word of a complexity prompt).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeagents.agents.tools import PRIORITIES, TIMEZONES, TOOL_SPECS
from edgeagents.errors import InvalidRequestError
from edgeagents.finetune import tooldata
from edgeagents.runtimes.base import Message, ToolSpec
from edgeagents.runtimes.chat_template import END, START, render_chat

IGNORE = -100
TIERS = ("simple", "moderate", "complex")
KINDS = ("tool", "ticket", "no_tool", "ask_id", "direct", "complexity", *tooldata.KINDS)
DEFAULT_MIX = {"tool": 0.30, "ticket": 0.28, "no_tool": 0.12, "ask_id": 0.11, "direct": 0.04, "complexity": 0.15}
# the course families at 60 % of their default weight, plus 40 % general tool calling
GENERAL_TOOLS_MIX = {**{k: round(w * 0.6, 3) for k, w in DEFAULT_MIX.items()},
                     "gen_single": 0.10, "gen_choose": 0.12, "gen_none": 0.07, "gen_ask": 0.05, "gen_multi": 0.06}
# run 8 showed the course families need most of their default weight to hold their targets and that "none fits"
# needs as many examples as a single call: the course families at 75 %, general tool calling 25 %, none-fits heaviest
TOOLS_MIX = {**{k: round(w * 0.75, 4) for k, w in DEFAULT_MIX.items()},
             "gen_single": 0.05, "gen_choose": 0.06, "gen_none": 0.07, "gen_ask": 0.03, "gen_multi": 0.04}
MIXES = {"default": DEFAULT_MIX, "general": GENERAL_TOOLS_MIX, "tools": TOOLS_MIX}
"""The named mixes a training run can ask for (``TrainConfig.mix``, ``--mix``)."""


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
# faults graded by how bad they are (ticket reports): outage or danger / broken for one user /
# comes and goes / cosmetic
SEVERE_SYMPTOMS: dict[str, list[str]] = {
    "urgent": ["is completely dead and the shop cannot open", "went down and took every till with it",
               "gives off a burning smell", "failed and nobody can get through the front door",
               "sparks when it is switched on", "cut out and every camera in the store went black",
               "failed and the cold room is warming up", "crashed and the whole team is offline",
               "went down during opening hours and all sales stopped", "is beeping nonstop and the fire panel shows a fault"],
    "high": ["stopped working completely", "will not power on any more", "fails every time I use it",
             "crashes as soon as I open the app", "has been offline since this morning", "no longer turns on at all",
             "reboots every few minutes all day", "will not connect to wifi at all", "lost all its settings and will not save new ones",
             "is stuck on a red light and does nothing"],
    "medium": ["drops the connection now and again", "is slow on some evenings", "sometimes needs two tries to pair",
               "occasionally forgets its schedule", "lags once in a while", "restarts by itself every few days",
               "shows offline for a minute every so often", "sometimes reports the wrong temperature",
               "takes a while to respond at times", "misses a notification here and there"],
    "low": ["has a small scuff on the side", "has a faded logo", "came in a dented box", "has a status light that is a bit too bright",
            "has a typo in its manual", "has a sticker that peels at one corner", "beeps a little louder than I would like",
            "shows the date in an odd format", "has a loose rubber foot", "has a tiny gap in the casing seam"],
}
ORDER_STATUSES = ["shipped", "processing", "backordered", "delivered", "cancelled"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
SYSTEMS = ["", "", "You are the support assistant of an electronics shop. Use the tools when they help."]

# urgency cues by priority: many different words so the model learns the idea, not one keyword
CUES: dict[str, list[str]] = {
    "urgent": ["this is an emergency", "our whole shop is down right now", "we are losing sales every minute",
               "it is critical, please act immediately", "nothing works and customers are waiting", "ASAP please",
               "our payment terminals are all offline", "the alarm system is dead tonight",
               "it is a safety issue", "everything stopped, we need help this instant", "top priority, drop everything",
               "people are stuck outside because the door will not open", "the whole office is offline",
               "there is smoke coming out of it", "our production line has stopped", "we cannot take any orders at all",
               "it is dangerous to leave it like this", "we need someone on it in the next hour",
               "all our stores are affected", "the medicine fridge is getting warm", "customers cannot pay",
               "the building has no heating in this frost", "our server room is overheating",
               "nobody can get into the shop", "the security cameras are all dark and we are exposed",
               "it is costing us thousands", "we need help immediately", "food in the freezer is spoiling",
               "we had to close until it works", "lives could be at risk"],
    "high": ["I need it working today", "it stopped working completely", "I cannot do my job without it",
             "this is important", "please fix it before tomorrow", "it is seriously affecting my work",
             "it broke this morning and I rely on it", "it is a big problem for us", "please treat this as high priority",
             "we have an event tomorrow and need it fixed", "I use it every day and now it is useless",
             "it is holding up my whole team", "please look at it as soon as you can", "it fails every single time",
             "I have clients coming in tomorrow", "my work is blocked until it is fixed", "it is totally unusable now",
             "our team needs it back by tonight", "I need it fixed by the end of today", "it crashes all the time now",
             "it is really hurting my work", "I cannot work from home without it", "it is getting worse every hour",
             "please prioritise this", "it is down most of the time", "I have a deadline and it keeps failing"],
    "medium": ["it happens now and then", "it is annoying but I can live with it for a few days",
               "it happens sometimes", "sort it out this week if you can", "it is intermittent",
               "once or twice a day", "it is a moderate issue", "not an emergency, but it should be looked at",
               "it is inconvenient", "a normal priority is fine", "it is a small pain",
               "it happens every few days", "check it when you get a chance this week", "it is irritating but usable",
               "it comes and goes", "some days it is fine, some days not", "it works after a restart, for a while",
               "no big hurry, but do not forget it", "every so often it acts up", "I can work around it for now",
               "please look into it sometime this week", "it is odd but not blocking anything",
               "it glitches occasionally", "it drops out a few times a week", "it is a minor annoyance"],
    "low": ["no rush at all", "whenever you have time", "it is only cosmetic", "just a minor thing",
            "low priority", "it is not urgent", "just a small suggestion", "any time next month is fine",
            "it does not really affect anything", "only a tiny detail", "purely a looks thing",
            "barely worth mentioning", "handle it when it suits you", "it works fine otherwise", "just letting you know",
            "a small scratch, nothing serious", "feel free to leave it for later", "not important at all",
            "no hurry whatsoever", "it is purely aesthetic", "nothing is broken, just a note",
            "if you ever get around to it", "a tiny imperfection", "take your time with it"],
}


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


def share_key(example: Example) -> str | None:
    """Examples with the same key start with the same text (system + tool list, or the router prompt)."""
    if example.kind == "complexity":
        return "complexity"
    # general tool examples each offer their own tools: a key each would make batches of one
    if not example.tools or example.kind in tooldata.KINDS:
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


# politeness and filler around a request, so the model learns the request, not the sentence frame
OPENERS = ["", "", "", "", "Hi, ", "Hello, ", "Hey, ", "Quick question: ", "Please help: ", "Good morning. ",
           "Sorry to bother you. ", "One more thing: "]
CLOSERS = ["", "", "", "", " Thanks!", " Thank you.", " Cheers.", " Thanks in advance.", " Much appreciated."]


def _sentence_case(text: str) -> str:
    """Capitalise the first letter of every sentence (templates glue lower-case cues after a full stop)."""
    text = re.sub(r"([.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return text[:1].upper() + text[1:]


def _wrap(rng: random.Random, text: str) -> str:
    """The request with an optional greeting before it and thanks after it."""
    opener = "" if text.startswith(("Hi", "Hello")) else rng.choice(OPENERS)
    if opener and not text.startswith(("I ", "I'", "ORD-")) and not text[:2].isupper():
        text = text[0].lower() + text[1:]
    return _sentence_case((opener + text + rng.choice(CLOSERS)).strip())


TIME_ASKS = ["What time is it{p}?", "Can you tell me the current time{p}?", "What's the date today{p}?",
             "What day is it{p}?", "Time check{p}, please.", "What's the local time{p} right now?",
             "Do you know what time it is{p}?", "Tell me the time{p}.", "I need the current time{p}.",
             "Which day of the week is it{p}?", "What hour is it{p} at the moment?", "What is today's date{p}?",
             "Is it morning or evening{p} now?", "How late is it{p}?"]
PLACES = {"UTC": ["UTC", "UTC time"], "Europe/London": ["London", "the UK"], "Europe/Vilnius": ["Vilnius", "Lithuania"],
          "America/New_York": ["New York", "NYC"], "Asia/Riyadh": ["Riyadh", "Saudi Arabia"]}
CUSTOMER_ASKS = ["Who is customer {c}?", "Look up customer {c}, please.", "Can you pull up the details of {c}?",
                 "I'm customer {c}. What tier am I?", "Show me the account {c}.", "Which city is customer {c} in?",
                 "Find the customer record for {c}.", "Get me the profile of client {c}.",
                 "What do we know about account {c}?", "Open the customer file {c}.", "Which tier is {c} on?",
                 "Is {c} a gold customer?", "What is the contact info of customer {c}?", "Does {c} have open orders?",
                 "Check the account of {c} for me.", "Pull customer {c} from the system.",
                 "What level of customer is {c}?", "Where is client {c} based?"]
ORDER_ASKS = ["Where is my order {o}?", "What's the status of order {o}?", "Has {o} shipped yet?",
              "When will order {o} arrive?", "Can you check order {o} for me?", "I'm still waiting for {o}. Any news?",
              "Track {o}, please.", "Is {o} delivered?", "My package {o} hasn't come yet.", "Status of {o}?",
              "Was order {o} sent out?", "Is {o} still processing?", "Look up order {o}.",
              "Where's the parcel with number {o}?", "Any idea when {o} will get here?", "Did {o} get dispatched?",
              "I ordered something, number {o}. Where is it now?", "Check the shipment {o}."]
CALLBACK_ASKS = ["Please book a callback for {c} on {d} about {r}.", "Can someone call {c} back on {d}? It's about {r}.",
                 "Customer {c} wants a phone call on {d} regarding {r}.", "Schedule a call with {c} for {d}, topic: {r}.",
                 "Have an agent phone {c} on {d} about {r}.", "Arrange a call for {c} on {d}; the subject is {r}.",
                 "{c} asks to be called on {d} to talk about {r}.", "Book {c} a phone slot on {d} for {r}.",
                 "I'm {c}. Could you call me on {d} about {r}?", "Set a callback: customer {c}, {d}, {r}.",
                 "Please get someone to ring {c} on {d} concerning {r}.", "Put {c} down for a call on {d} about {r}."]
CALLBACK_REASONS = ["a refund", "a billing question", "the delivery", "setting up the hub", "a faulty router", "an upgrade",
                    "the warranty", "a missing item", "a wrong charge", "an installation", "a contract change",
                    "a replacement device", "the subscription", "a damaged parcel"]
DIAG_ASKS = {
    "all": ["Run a full health check of this device.", "Is the system healthy?", "Run the diagnostics.",
            "Check everything on this machine.", "How is this box doing overall?", "Give me a full system report."],
    "cpu": ["Is the CPU overloaded?", "What's the CPU load right now?", "How busy is the processor?",
            "Check the CPU usage.", "Is the processor maxed out?", "How hard is the CPU working?"],
    "memory": ["Are we low on memory?", "Check the RAM usage.", "How much memory is free?", "Is the RAM full?",
               "Look at the memory of this machine.", "Do we have enough free RAM?"],
    "disk": ["How much disk space is left?", "Is the disk full?", "Check the free space on the drive.",
             "Is storage getting tight?", "How full is the hard drive?", "Check the disk usage."],
    "database": ["Check the database, please.", "Is the database OK?", "How many records are in the database?",
                 "Run a check on the DB.", "Is the data store healthy?", "Look at the database status."],
}
ESCALATE_WHY = ["I want to speak to a real person", "this is the third time I write, get me a manager",
                "I'm really angry about this service", "let me talk to a human now", "I need a supervisor",
                "your bot is useless, I need a supervisor", "I am furious, nobody helps me",
                "transfer me to a human agent", "I refuse to talk to a machine any longer", "escalate this to your boss",
                "this is unacceptable, I want someone in charge", "connect me with a live agent",
                "I've had enough, get me an actual employee"]
KB_ASKS = {  # query -> ways to ask it
    "router reset": ["How do I reset my router?", "What are the steps to factory reset the router?",
                     "My router needs a reset, how?"],
    "return policy": ["What is your return policy?", "Can I return an item?", "What are the rules for returns?",
                      "Until when can I return something?"],
    "shipping time": ["How long does shipping take?", "How many days until delivery usually?",
                      "What are your delivery times?"],
    "warranty": ["Is there a warranty on the devices?", "How long is the warranty?", "Which faults does the warranty include?"],
    "hub pairing": ["My hub will not pair with a sensor, how do I fix it?", "How do I pair a sensor with the hub?",
                    "What can I do when pairing with the hub fails?"],
    "camera offline": ["How do I fix a camera that shows offline?", "My camera says offline; what does the guide say?"],
    "refund": ["Can I get a refund?", "How do refunds work?", "How long does a refund take?"],
    "firmware update": ["How do I update the firmware?", "Where do I get the latest firmware?",
                        "What is the procedure for a firmware upgrade?"],
    "wifi password": ["How do I change the wifi password?", "Where do I set a new wifi password?"],
    "broken device": ["What do I do if a device is broken?", "My device is damaged, what are my options?"],
    "cancel order": ["How do I cancel an order?", "Can I still cancel my purchase?"],
    "shipping countries": ["Do you ship outside the EU?", "Which countries do you deliver to?"],
}
KB_FRAMES = ["{q}", "{q}", "Can you check the help articles? {q}", "Search the FAQ: {q}",
             "What does the manual say? {q}", "{q} Is that in your documentation?",
             "{q} Look it up in your knowledge base, please.", "What do your support articles say? {q}",
             "I was wondering: {q}", "Is there a guide for this? {q}"]


def _subject(device: str, symptom: str) -> str:
    return f"{device.capitalize()} {symptom}"[:120]


# ------------------------------------------------------------------ the families
def _tool_example(rng: random.Random) -> Example:
    # uniform over the seven non-ticket tools: drawing tickets 4x as often as any other tool teaches
    # the model to answer most requests with create_support_ticket
    tool = rng.choice(["get_current_time", "lookup_customer", "lookup_order", "schedule_callback",
                       "run_system_diagnostics", "escalate_to_human", "search_knowledge_base"])
    cid, oid, name = _cid(rng), _oid(rng), rng.choice(NAMES)
    error = rng.random() < 0.08 and tool in ("lookup_customer", "lookup_order")
    if tool == "get_current_time":
        tz = rng.choice(TIMEZONES + [None, None])
        place = rng.choice(PLACES[tz]) if tz else ""
        user = rng.choice(TIME_ASKS).format(p=f" in {place}" if place else "")
        args: dict[str, Any] = {"timezone": tz} if tz else {}
        hh, mm = rng.randint(0, 23), rng.randint(0, 59)
        day = rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
        iso = f"2026-11-{rng.randint(1, 28):02d}T{hh:02d}:{mm:02d}"
        result: dict[str, Any] = {"timezone": tz or "UTC", "iso": iso, "weekday": day}
        answer = f"It is {hh:02d}:{mm:02d} on {day}, {iso[:10]}" + (f" in {place}." if place else " (UTC).")
    elif tool == "lookup_customer":
        user = rng.choice(CUSTOMER_ASKS).format(c=cid)
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
        user = rng.choice(ORDER_ASKS).format(o=oid)
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
        reason = rng.choice(CALLBACK_REASONS)
        user = rng.choice(CALLBACK_ASKS).format(c=cid, d=spoken, r=reason)
        args = {"customer_id": cid, "date": iso, "reason": reason}
        result = {"callback_id": rng.randint(1, 90), "customer_id": cid, "slot": f"{iso} 10:00", "reason": reason,
                  "created_at": "2026-11-26T10:00:00"}
        answer = f"Done: a callback for {cid} is booked on {iso} at 10:00 about {reason}."
    elif tool == "run_system_diagnostics":
        comp = rng.choice(list(DIAG_ASKS))
        user, args = rng.choice(DIAG_ASKS[comp]), {"component": comp}
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
        why = rng.choice(ESCALATE_WHY)
        user = rng.choice(["{w}. My customer id is {c}.", "Customer {c} here: {w}.", "{w}! ({c})",
                           "{w}. Account {c}.", "This is {c}, {w}.", "{w}, my id is {c}."]).format(w=why, c=cid)
        reason = rng.choice(["customer asks for a human", "customer is upset", "customer wants a manager"])
        args = {"customer_id": cid, "reason": reason}
        result = {"escalated": True, "via": "local queue (cloud helpdesk unreachable)", "ticket_id": rng.randint(1, 90),
                  "note": "a human will pick this up when the link is back"}
        answer = "I'm sorry about this. I have passed your case to a human colleague; they will contact you soon."
    else:  # search_knowledge_base
        query = rng.choice(list(KB_ASKS))
        user = rng.choice(KB_FRAMES).format(q=rng.choice(KB_ASKS[query]))
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
    messages = [*_system(rng), {"role": "user", "content": _wrap(rng, user)},
                *_call_msgs(tool, args, result, answer, call_id)]
    return Example("tool", messages, _pick_tools(rng, [tool]), meta={"tool": tool, "arguments": args})


def _ticket_example(rng: random.Random, priority: str) -> Example:
    cid, device = _cid(rng), rng.choice(DEVICES)
    # the fault itself carries severity too: most reports describe a fault of their own priority, and
    # some say nothing else, so the label follows the whole report, not an urgency phrase alone
    graded = rng.random() < 0.7
    symptom = rng.choice(SEVERE_SYMPTOMS[priority] if graded else SYMPTOMS)
    if graded and rng.random() < 0.25:
        cue = ""
    else:
        cue = rng.choice(CUES[priority])
        if rng.random() < 0.35:  # two cues of the same priority: the label follows the meaning, not one phrase
            cue = f"{cue}, {rng.choice([c for c in CUES[priority] if c != cue])}"
    if cue:
        user = rng.choice([
            "My {d} {s}. {cue}. Please open a ticket for customer {c}.",
            "Customer {c}: the {d} {s}, {cue}.",
            "Open a support ticket for {c}: {d} {s}. {cue}.",
            "Hi, I'm {c}. My {d} {s} and {cue}. Can you log a ticket?",
            "{cue}: the {d} {s}. Account {c}.",
            "Please raise a ticket for customer {c}. Problem: the {d} {s}; {cue}.",
            "Ticket for {c}, please: our {d} {s}. {cue}.",
            "{c} reporting a fault: the {d} {s}. {cue}.",
            "Could you log this for customer {c}? The {d} {s}, {cue}.",
            "File a support case for {c}. The {d} {s}. {cue}.",
            "The {d} {s}. {cue}. I'm customer {c}, please open a ticket.",
            "Problem report from {c}: {d} {s}; {cue}.",
        ]).format(d=device, s=symptom, cue=cue, c=cid)
    else:
        user = rng.choice([
            "Customer {c}: the {d} {s}.",
            "Open a support ticket for {c}: the {d} {s}.",
            "Hi, I'm {c}. My {d} {s}. Can you log a ticket?",
            "Please raise a ticket for customer {c}. Problem: the {d} {s}.",
            "{c} reporting a fault: our {d} {s}.",
            "Could you log this for customer {c}? The {d} {s}.",
            "The {d} {s}. I'm customer {c}, please open a ticket.",
            "Problem report from {c}: {d} {s}.",
        ]).format(d=device, s=symptom, c=cid)
    user = _wrap(rng, user[0].upper() + user[1:])
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
         ("How many legs does a spider have?", "A spider has eight legs."),
         ("What is the capital of Spain?", "The capital of Spain is Madrid."),
         ("What is the capital of Germany?", "The capital of Germany is Berlin."),
         ("Which is the longest river in Africa?", "The Nile is the longest river in Africa."),
         ("What gas do plants take in?", "Plants take in carbon dioxide."),
         ("How many continents are there?", "There are seven continents."),
         ("Which planet is known as the red planet?", "Mars is known as the red planet."),
         ("What is the freezing point of water?", "Water freezes at 0 °C."),
         ("Who wrote Romeo and Juliet?", "William Shakespeare wrote Romeo and Juliet."),
         ("How many seconds are in a minute?", "A minute has 60 seconds."),
         ("How many months have 31 days?", "Seven months have 31 days."),
         ("What does RAM stand for?", "RAM stands for random-access memory."),
         ("What is the chemical symbol for gold?", "The chemical symbol for gold is Au."),
         ("How many hours are in a day?", "A day has 24 hours."),
         ("What is the tallest mountain on Earth?", "Mount Everest is the tallest mountain on Earth.")]
SMALL_TALK = [("Hello!", "Hello! How can I help you today?"), ("Hi there", "Hi! What can I do for you?"),
              ("Thanks a lot!", "You're welcome! Anything else I can help with?"),
              ("Good morning", "Good morning! How can I help?"),
              ("Who are you?", "I'm the shop's assistant. I can look up orders and customers, open tickets and more."),
              ("What can you do?", "I can check orders and customers, open support tickets, book callbacks, "
                                   "search the help articles and check this device's health."),
              ("Bye!", "Goodbye, have a nice day!"), ("That's all, thank you.", "Glad I could help. Goodbye!"),
              ("Great, thanks for the help.", "You're welcome! Have a good day."),
              ("Good afternoon!", "Good afternoon! What can I do for you?"),
              ("Nice, that worked.", "Great to hear! Anything else?"), ("Ok, thanks.", "You're welcome!"),
              ("How are you?", "I'm fine, thanks! How can I help you?"),
              ("See you later.", "See you! Have a nice day."), ("Perfect, thank you so much!", "Happy to help!")]


def _arith(rng: random.Random) -> tuple[str, str]:
    """Arithmetic in words and symbols: the model answers it itself (no tool computes)."""
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    op = rng.choice(["+", "-", "*"])
    val = a + b if op == "+" else a - b if op == "-" else a * b
    sym = {"+": "plus", "-": "minus", "*": "times"}[op]
    worded = {"+": [f"Sum {a} and {b}.", f"What is the sum of {a} and {b}?", f"Add up {a} and {b}, please."],
              "-": [f"Take {b} away from {a}.", f"What is {a} less {b}?", f"How much is left if I take {b} from {a}?"],
              "*": [f"Multiply {a} and {b}.", f"What is the product of {a} and {b}?", f"{a} lots of {b} is how much?"]}
    q = rng.choice([f"What is {a} {op} {b}?", f"What's {a} {sym} {b}?", f"Calculate {a} {op} {b}.",
                    f"How much is {a} {sym} {b}?", f"{a} {op} {b} = ?", *worded[op]])
    return q, f"{a} {op} {b} = {val}."


def _units(rng: random.Random) -> tuple[str, str]:
    """Small unit conversions, also answered directly."""
    n = rng.randint(2, 12)
    unit, per, into = rng.choice([("days", 24, "hours"), ("hours", 60, "minutes"), ("weeks", 7, "days"),
                                  ("minutes", 60, "seconds"), ("years", 12, "months"), ("kilometres", 1000, "metres")])
    q = rng.choice([f"How many {into} are in {n} {unit}?", f"Convert {n} {unit} to {into}.",
                    f"{n} {unit} is how many {into}?"])
    return q, f"{n} {unit} is {n * per} {into}."


def _no_tool_example(rng: random.Random, with_tools: bool) -> Example:
    r = rng.random()
    q, a = (_arith(rng) if r < 0.35 else _units(rng) if r < 0.45 else rng.choice(FACTS) if r < 0.72
            else rng.choice(SMALL_TALK))
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
        ("Can you check on my delivery?", "Of course. What is the order number? It looks like ORD-1234.", "order_id"),
        ("I ordered a router two weeks ago and nothing came.",
         "Sorry about that. Tell me the order number (like ORD-1234) and I will check it.", "order_id"),
        (f"The {device} I bought {symptom}. Can you log it?",
         "Yes. Which customer id should the ticket go to? It looks like C123.", "customer_id"),
        ("Could someone give me a ring on Friday?", "Sure. What is your customer id (like C123)?", "customer_id"),
        ("Show me my account details.", "Happy to. What is your customer id? It looks like C123.", "customer_id"),
        ("Which membership do I have with you?", "I can check. What is your customer id (like C123)?", "customer_id"),
        ("Escalate my complaint to a person.", "I can do that. What is your customer id? It looks like C123.",
         "customer_id"),
        ("Is my parcel on its way?", "Let me check: what is the order number? It looks like ORD-1234.", "order_id"),
    ])
    messages = [*_system(rng), {"role": "user", "content": _wrap(rng, q)}, {"role": "assistant", "content": a}]
    return Example("ask_id", messages, _pick_tools(rng), meta={"tool": None, "missing": need})


# complexity: requests built from parts, so the label follows from how much the request asks
SIMPLE_REQ = ["What time is it in {tz}?", "Where is order {o}?", "Look up customer {c}.", "Has order {o} shipped?",
              "What is your return policy?", "How long does shipping take?", "Is the {d} in stock?",
              "What's the price of the {d}?", "What day is it today?", "Show me the status of {o}.",
              "Which city is customer {c} in?", "Do you have a warranty?", "Translate 'hello' into French.",
              "What is 12 times 8?", "Is the shop open on Sunday?", "Who is customer {c}?",
              "Do you sell the {d}?", "What are your opening hours?", "Thanks, bye!", "How much is shipping?",
              "Is {o} delivered?", "What's the weather like?", "Spell 'warranty' for me."]
MODERATE_REQ = ["My {d} {s}, what should I try?", "Book a callback for {c} on {date} about a refund.",
                "The {d} {s} since the update; how do I fix it?", "Open a ticket for {c}: the {d} {s}.",
                "Compare the {d} and the {d2} for a small flat.", "Help me set up the {d} with my wifi.",
                "I want to return the {d} I bought last week; how does that work?",
                "My {d} {s} and I already restarted it; what next?",
                "Explain how to pair the {d} with the hub, step by step.",
                "Summarise the warranty terms for the {d} in two sentences.",
                "Order {o} came with the wrong colour; can I swap it?",
                "The {d} {s} every night; what settings should I check?",
                "Write a short, polite reply to a customer whose {d} {s}.",
                "Which of the {d} or the {d2} uses less power, and why?",
                "Move my callback to {date} and tell me what to prepare.",
                "The app shows the {d} offline but it is on; how do I reconnect it?"]
COMPLEX_REQ = ["Two orders are late, the {d} {s} and I was charged twice; sort it all out.",
               "Plan the rollout of {n} {d}s across {k} shops, with budget, timeline and risks.",
               "Our {d}s {s}, the {d2}s {s2} and the network is slow in {k} branches; find the root cause and a fix plan.",
               "Audit all orders from last quarter, find the late ones, refund them and write to each customer.",
               "Design a monitoring strategy for {n} devices across {k} sites and explain the trade-offs.",
               "Order {o} never arrived, {o2} came broken, the {d} {s}, and I want a refund and a callback; handle everything.",
               "Compare three security setups for {k} stores, estimate the costs and recommend one with reasons.",
               "Write a migration plan to move {n} {d}s to new firmware without downtime, including rollback.",
               "Investigate why {k} branches report the {d} {s}, check their orders, open tickets and brief the managers.",
               "Our {d} {s}, two invoices are wrong and a customer threatens to leave; prioritise and fix all of it.",
               "Build a replacement plan for {n} failing {d}s across {k} regions with costs, stock checks and a schedule.",
               "Reconcile last month's refunds against {n} orders, flag mismatches and draft a report for finance.",
               "Compare vendors for {n} {d}s, check our contracts, estimate savings and propose a switch plan."]
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
            elif kind in tooldata.KINDS:
                messages, tools, meta = tooldata.build(kind, rng)
                out.append(Example(kind, messages, tools, meta=meta))
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
