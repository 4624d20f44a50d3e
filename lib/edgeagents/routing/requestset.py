"""The labelled request set the router is evaluated on (``data/routing_requests.jsonl``).

Each line: ``{"id", "text", "category", "label", "split", "template"}``.

**Labelling rule.** The label follows the guide's split of agent work (see Lab 06):

- ``local`` (a small model on the device is enough): *repetitive* tasks (classify, tag, triage,
  summarise a short given text), *tool_integration* (fill a tool's arguments from the request:
  look up an order, book a slot), *structured_workflow* (one fixed step of a known process:
  extract fields to JSON, reformat, fill a template), *domain_specific* (narrow tasks of one
  business whose answer is in the request or a tool), and *privacy_sensitive* (the request
  carries personal, medical, financial or confidential data, so it must not leave the device
  whatever its difficulty).
- ``llm`` (send to a large model): *complex_reasoning* (multi-step reasoning, maths, planning
  with trade-offs), *open_ended* (essays, strategy, creative writing with no fixed form),
  *broad_knowledge* (needs facts about the world that are not in the request), and
  *novel_situation* (something the system was not built for and no tool covers).

A request is labelled by the category of the template it was generated from; privacy wins
over difficulty. The split is by **template**: about a third of each category's templates are
held out (``split == "test"``), so a classifier fitted on ``train`` is evaluated on phrasings
it never saw, not on the same sentences with other names filled in.

Regenerate (seeded, deterministic): ``python -m edgeagents.routing.requestset --write``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from edgeagents.errors import InvalidRequestError

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "routing_requests.jsonl"

LOCAL_CATEGORIES = ("repetitive", "tool_integration", "structured_workflow", "domain_specific", "privacy_sensitive")
LLM_CATEGORIES = ("complex_reasoning", "open_ended", "broad_knowledge", "novel_situation")


@dataclass(frozen=True)
class LabelledRequest:
    id: str
    text: str
    category: str
    label: str  # "local" or "llm"
    split: str  # "train" or "test"
    template: str


FILL = {
    "product": ["wireless earbuds", "standing desk", "coffee grinder", "router", "phone case", "running shoes", "office chair", "monitor"],
    "order": ["A1043", "B2291", "C7780", "D3315", "E9021", "F1180", "G5512", "H6604"],
    "name": ["Maria Lopez", "Tomas Novak", "Aisha Khan", "Liam O'Brien", "Chen Wei", "Ona Petraitė", "Jonas Berg", "Fatima Diallo"],
    "city": ["Vilnius", "Lisbon", "Nairobi", "Osaka", "Denver", "Krakow", "Lyon", "Porto"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "tomorrow", "next Monday", "the 14th"],
    "time": ["9:00", "10:30", "13:00", "15:45", "17:00", "8:15", "11:00", "16:30"],
    "topic": ["billing", "shipping", "login", "refund", "warranty", "delivery delay", "damaged item", "subscription"],
    "review": ["arrived broken and support never answered", "works perfectly, great value", "okay but the battery is weak",
               "best purchase this year", "stopped working after two days", "fine, nothing special", "love the colour, hate the noise",
               "fast delivery and easy setup"],
    "field": ["quantum computing", "macroeconomics", "protein folding", "medieval trade", "climate policy", "urban planning",
              "behavioural economics", "distributed databases"],
    "country": ["Mongolia", "Peru", "Ghana", "Finland", "Vietnam", "Uruguay", "Bhutan", "Estonia"],
    "amount": ["$45.20", "€120", "$1,300", "£89.99", "$12", "€4,500", "$230", "£15"],
    "med": ["metformin", "lisinopril", "ibuprofen", "sertraline", "atorvastatin", "levothyroxine", "amoxicillin", "insulin"],
    "account": ["LT12 1000 0111 0100 1000", "IBAN DE89 3704 0044 0532 0130 00", "card ending 4421", "account 5519-2231",
                "card ending 9087", "IBAN FR14 2004 1010 0505 0001 3M02 606", "account 0042-7781", "card ending 1177"],
    "n": ["3", "5", "7", "12", "4", "9", "6", "15"],
}

TEMPLATES: dict[str, list[str]] = {
    "repetitive": [
        "Classify this review as positive, negative or neutral: '{review}'",
        "Is this customer message about {topic}, shipping or something else? 'My {product} has not arrived yet.'",
        "Tag the sentiment of: \"{review}\"",
        "Summarise in one line: customer says the {product} {review}.",
        "Mark this ticket's priority (low, medium, high): '{product} {review}'",
        "Detect the language of this sentence: 'Mano užsakymas {order} dar neatvyko.'",
        "Is this email spam? 'Congratulations {name}, you won a free {product}, click here'",
        "Route this support ticket to the right team: '{topic} problem with order {order}'",
        "Label the intent: 'I want to cancel my {topic} plan'",
    ],
    "tool_integration": [
        "Look up the status of order {order}.",
        "Book a meeting room for {n} people on {day} at {time}.",
        "What's the weather in {city} {day}?",
        "Set a reminder for {day} at {time} to call {name}.",
        "Check if the {product} is in stock in the {city} store.",
        "Create a support ticket for {name} about {topic}.",
        "Convert {amount} to euros.",
        "Send {name} the tracking link for order {order}.",
        "Schedule a callback for {name} on {day} at {time}.",
    ],
    "structured_workflow": [
        "Extract name, order id and issue as JSON from: '{name} here, order {order}, the {product} {review}.'",
        "Format this address as JSON with street, city and country: '12 Main St, {city}'",
        "Fill the refund form for order {order}, amount {amount}, reason: {topic}.",
        "Turn this note into a to-do list: call {name}, ship {order}, reorder the {product}.",
        "Convert '{day} {time}' to ISO 8601.",
        "Write the standard order-confirmation email for {name}, order {order}.",
        "Pull the date, amount and payee out of: 'Paid {amount} to {name} on {day}'.",
        "Rewrite this status update in our weekly template: '{product} launch slipped, {topic} fixes done'.",
        "Validate that order id {order} has the right format.",
    ],
    "domain_specific": [
        "What is our return window for a {product}?",
        "Which warehouse ships orders to {city}?",
        "Explain our {topic} policy to a customer in two sentences.",
        "Is order {order} eligible for free shipping under our rules?",
        "Which SKU code do we use for the {product}?",
        "What does error code E{n}04 mean on our payment terminal?",
        "How many loyalty points does a {amount} purchase earn?",
        "Which of our plans includes priority {topic} support?",
        "What is the escalation path for a {topic} complaint in our handbook?",
    ],
    "privacy_sensitive": [
        "Summarise my medical notes: patient {name}, on {med}, blood pressure 150/95, follow-up {day}.",
        "Check whether my salary transfer of {amount} to {account} went through.",
        "Draft a reply to my doctor about the side effects of {med} I have had since {day}.",
        "Here is my bank statement line '{amount} to {account}'; which budget category is it?",
        "My password for the {city} office VPN is hunter2, store it in my notes.",
        "Analyse this confidential HR complaint from {name} about their manager and suggest next steps.",
        "Compare my two blood test results and explain in depth what changed: cholesterol 6.1 then 5.2, on {med}.",
        "Work out whether I can afford a mortgage on my income and debts: salary {amount} monthly, loan on {account}.",
        "Read my private journal entry from {day} and tell me what it says about my mood.",
    ],
    "complex_reasoning": [
        "A train leaves {city} at {time} at 80 km/h and another follows 40 minutes later at 110 km/h; when and where does it catch up? Show the reasoning.",
        "Plan a {n}-step migration of our monolith to microservices, weighing cost, risk and team size at each step.",
        "Prove that the square root of {n} is irrational when {n} is not a perfect square.",
        "Given these constraints, find the cheapest production plan: {n} machines, 3 products, shared labour limits, and explain why it is optimal.",
        "Debug this reasoning: if all managers are engineers and some engineers are in {city}, must some managers be in {city}?",
        "Design a fair on-call schedule for {n} engineers across time zones with holidays and explain the trade-offs.",
        "Work out the expected value of this game step by step: roll {n} dice, win if the sum is prime.",
        "Compare three pricing strategies for the {product} over five years with churn, discounting and competitor response.",
        "Our cache hit rate fell after the {topic} release while latency rose in {city} only; reason through the likely causes in order.",
    ],
    "open_ended": [
        "Write a short story about a lighthouse keeper in {city} who finds a {product}.",
        "What should our company's strategy be for the next ten years?",
        "Write an essay on whether {field} will change society.",
        "Brainstorm twenty creative marketing campaigns for the {product}.",
        "Compose a poem about {day} mornings in {city}.",
        "Give me your philosophy of a good life and defend it.",
        "Draft a keynote speech about the future of {field}.",
        "Invent a board game about {field} and describe its rules and theme.",
        "What would a city like {city} look like in the year 2200?",
    ],
    "broad_knowledge": [
        "Explain the history of {field} from its origins to today.",
        "What are the main exports of {country} and how have they changed since 1990?",
        "Who were the most influential thinkers in {field} and what did each contribute?",
        "Summarise the political system of {country}.",
        "What caused the 2008 financial crisis and what were its effects on {country}?",
        "Describe the current scientific consensus on {field}.",
        "Which treaties shaped the borders of {country}?",
        "Compare the healthcare systems of {country} and Japan.",
        "What are the open research problems in {field}?",
    ],
    "novel_situation": [
        "Our {product} supplier in {city} went bankrupt overnight and customs is holding {n} containers; what do we do?",
        "A customer says our {product} caught fire and they are filming a video; how should we respond legally and publicly?",
        "I found a bug that lets anyone see other users' orders, including {order}; what is our plan?",
        "The {city} office flooded and {n} servers are offline; how do we keep serving customers this week?",
        "A journalist asks about a data leak we have never heard of; what should I say?",
        "Our AI agent promised a customer a free {product} it had no authority to give; how do we handle it?",
        "An earthquake in {city} cut off our only warehouse; replan deliveries for {n} regions.",
        "A regulator in {country} wants an audit of our {topic} decisions by {day}; where do we start?",
        "Two of our tools return contradictory stock levels for the {product} and neither has docs; what is going on?",
    ],
}


def generate(per_template: dict[str, int] | None = None, seed: int = 7) -> list[LabelledRequest]:
    """Build the request set: each template filled ``per_template[label]`` times from :data:`FILL` (seeded).

    The default mix, 6 fills per local template and 2 per large-model template, makes about four in
    five requests local: an *assumption* about agent traffic (the guide says 70–80 %), not a finding.
    """
    per_template = per_template or {"local": 6, "llm": 2}
    rng = random.Random(seed)
    rows: list[LabelledRequest] = []
    for category, templates in TEMPLATES.items():
        label = "local" if category in LOCAL_CATEGORIES else "llm"
        for t_index, template in enumerate(templates):
            split = "test" if t_index % 3 == 2 else "train"
            seen: set[str] = set()
            tries = 0
            while len(seen) < per_template[label] and tries < 50:
                tries += 1
                text = template.format(**{k: rng.choice(v) for k, v in FILL.items()})
                if text in seen:
                    continue
                seen.add(text)
                rows.append(LabelledRequest(f"{category[:4]}-{t_index}-{len(seen)}", text, category, label, split, f"{category}/{t_index}"))
    return rows


def write(path: Path = DATA_FILE, rows: list[LabelledRequest] | None = None) -> Path:
    rows = rows if rows is not None else generate()
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")
    return path


def load_requests(split: str | None = None, path: Path | None = None) -> list[LabelledRequest]:
    """The committed request set; ``split="train"`` or ``"test"`` for one part."""
    file = path or DATA_FILE
    if split not in (None, "train", "test"):
        raise InvalidRequestError(f"split={split!r} is not one of None, 'train', 'test'.")
    rows = [LabelledRequest(**json.loads(line)) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r.split == split]


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--write" in sys.argv:
        print(f"wrote {write()}")
    else:
        rows = generate()
        print(f"{len(rows)} requests; run with --write to save them to {DATA_FILE}")
