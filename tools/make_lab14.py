"""Write labs/14_capstone.ipynb and its solutions from one source (outputs cleared).

    python tools/make_lab14.py

The lab and its solutions differ only in the exercise cells; keeping them in one script keeps them in step.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]

md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell


def exercise(source: str, number: str, kind: str) -> nbformat.NotebookNode:
    """An exercise's code cell, tagged for the shape test: kind "code" (the learner writes code against the lab's
    API), "calc" (a formula on measured values) or "lookup" (a value read off a result)."""
    return code(source, metadata={"edgeagents": {"exercise": number, "kind": kind}})

INTRO = """# Lab 14 · Capstone: an offline customer-service system, served and evaluated

<!-- run-time:begin (make lab-table writes this line from measured runs) -->
**Run time:** not measured yet.
<!-- run-time:end -->
Memory: two copies of the course model at most, one of them while a runtime is restarted.

Every lab so far built one part. This one puts them together into a system a shop could run on a single small
machine, with no cloud account and no network: the Agent Framework agent of Lab 11 on the course model of Lab 07,
the SQLite business store and its gated, audited tools, the input guard, failover when the model runtime dies
(Labs 06 and 13), and the monitoring of Lab 13 — served over HTTP with the OpenAI chat API and a chat page.

Then you do what a team does before it trusts an agent with customers: **measure it**. Not "does the reply sound
right" but "did the database end in the right state", over a task set, several times per task, and again with
things broken on purpose.

**You will:**
1. send a customer turn through `CapstoneSystem` and read what it did: tool calls, audit rows, seconds, tokens;
2. serve it on 127.0.0.1 and talk to it with the real `openai` client: sessions, streaming, `/health`, `/metrics`;
3. evaluate it the way customer-service agent benchmarks do: the outcome, pass^1 and pass^k;
4. break it — network cut, a tool that fails, the runtime killed mid-turn, escalation down, a burst of users — and
   count the two failures that must never happen: a failed action reported as done, and a half-written row;
5. run a production checklist against the live system;
6. add a tool of your own and evaluate the agent on it.

| the guide writes | here | where |
|---|---|---|
| `ProductionAgentService`, `MultiAgentProductionSystem` | `CapstoneSystem` | `edgeagents.capstone.system` |
| a FastAPI `/chat` on `0.0.0.0` | `create_app(system)`: `/v1/chat/completions`, `/health`, `/metrics`, `/` on 127.0.0.1 | `edgeagents.capstone.service` |
| `@agent.tool` | `agent_framework.tool` / `FunctionTool`, offered with `extra_tools=[...]` | `edgeagents.capstone.agent.build_agent` |
| "measure success" | `evaluate(agent_fn, TASKS, k)`: database state + reply, pass^k | `edgeagents.capstone.evaluate` |
"""

STEP0 = """# Lab 14 · step 0 — imports, and the whole system on the course model
import math, time
import httpx, openai, pandas as pd, plotly.express as px, psutil
from IPython.display import Markdown, display

import edgeagents
from edgeagents import check
from edgeagents.agents.store import BusinessStore
from edgeagents.quiz import Quiz
from edgeagents.capstone import TASKS, Task, evaluate, reliability
from edgeagents.capstone.checklist import Check, checklist_table, production_checklist
from edgeagents.capstone.service import MODEL_ID, serve
from edgeagents.capstone.system import CapstoneSystem
from edgeagents.capstone.tasks import tasks_by_category
from edgeagents.monitoring.collector import percentile
from edgeagents.routing.costs import load_cloud_prices

settings = edgeagents.load_settings()
for name in ("server", "system", "rel_agent"):     # re-running this cell: close what the last run opened
    if name in globals():
        globals()[name].close()
store_path = settings.home / "capstone" / "lab14.sqlite"
system = CapstoneSystem.open(store_path, reset=True, n_threads=settings.n_threads)
print(f"threads={settings.n_threads} · store: {store_path}")
print("tools on offer:", ", ".join(system.settings["tools"]))"""

GUIDE_STEPS = """### The guide's getting-started steps, made concrete

The guide's chapter ends with steps for a first agent system. Each one is a decision this system has made, and a
place in this lab where you see it:

| guide step | this system | see |
|---|---|---|
| 2 · choose the model | Gemma 3 270M, Q4_K_M GGUF, plus the course LoRA adapter; llama.cpp in-process | step 0, the checklist |
| 3 · a first agent with a tool | the Agent Framework agent with the shop's tools; your own tool in exercise 14.1 | steps 1, 10 |
| 4 · scope it | one shop's policy (`POLICY`): priorities, asking for ids, "a person will follow up" | step 5 |
| 5 · resource limits and security | n_ctx, threads, input size, `max_pending`, sessions; allowlist, input guard, audit, loopback | steps 8, 9 |
| 6 · measure success | the task set graded by database state, pass^k, reliability runs | steps 6–8 |
"""

S1 = """## 1 · One turn, and what the system did

`system.chat(text, session_id)` answers one turn. On the way it takes a place in a bounded queue (`max_pending`),
finds the session (a new one here), opens **one database transaction** for the whole turn, runs the agent — the
course model decides whether to call a tool (`tool_strategy="auto"`: its adapter was trained to), writes the call,
the tool runs through the gate, the model answers from the result — and commits. (Lab 11's scored router,
`tool_strategy="route"`, forces a tool on every turn, so it can never ask for a missing id or hand over to a
person: try it on the evaluation below and compare.) If the model runtime fails, the turn is rolled back and retried once on a reopened
runtime; after that, an escalation endpoint if one is configured, else the reply says a person will follow up."""

STEP1 = """# Lab 14 · step 1 — one customer turn through the system
turn = system.chat("Where is my order ORD-1001?")
print("agent:", turn.text.strip())
print(f"served by {turn.served_by} in {turn.seconds:.1f} s · {turn.prompt_tokens} prompt + "
      f"{turn.completion_tokens} completion tokens · restarts {turn.restarts}")
pd.DataFrame(turn.tool_calls)"""

S1B = """Every tool call the agent made also went through the gate, which wrote it to the audit log — refused calls
included. The audit log is what you would read after an incident."""

STEP1B = """# Lab 14 · step 1b — the audit log the gate wrote for that turn
pd.DataFrame(system.store.audit_rows())[["at", "tool", "arguments", "outcome"]]"""

S2 = """## 2 · Serving it: the OpenAI API, health, metrics and a chat page

`serve(system)` starts a FastAPI app with uvicorn on 127.0.0.1 (a free port). Its `/v1/chat/completions` speaks
the OpenAI chat API, so any OpenAI client works. Two additions: the service keeps each conversation — pass the
`session_id` it gave you to continue one (`extra_body` in the `openai` client) — and each reply carries what the
agent did under `edgeagents` (its tool calls, seconds, who answered)."""

STEP2 = """# Lab 14 · step 2 — serve the system on 127.0.0.1 and talk to it with the real openai client
server = serve(system)
client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed-locally", timeout=600)
reply = client.chat.completions.create(
    model=MODEL_ID, messages=[{"role": "user", "content": "Hi, this is customer C003. Which city am I in?"}])
ext = reply.model_extra["edgeagents"]        # what the agent did, beside the usual OpenAI fields
print("agent:", reply.choices[0].message.content.strip())
print("tools:", [c["name"] for c in ext["tool_calls"]], f"· {ext['seconds']:.1f} s · session {ext['session_id']}")"""

STEP3 = """# Lab 14 · step 3 — the same conversation, streamed as the model writes it
stream = client.chat.completions.create(
    model=MODEL_ID, stream=True, extra_body={"session_id": ext["session_id"]},
    messages=[{"role": "user", "content": "Thanks. How long does shipping take?"}])
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()"""

S3 = """A supervisor (systemd, Kubernetes, a load balancer) polls `/health`; Prometheus scrapes `/metrics`, which now
holds two layers: the model runtime's GenAI metrics from Lab 13's collector, and the service's own — turns by who
answered them, tool calls by outcome, turn duration. The chat page at `/` shows each turn's tool calls and latency:
open the printed address in a browser on the machine that runs this kernel (on Binder the kernel's 127.0.0.1 is
not your browser's). `make test` drives that page in a real chromium."""

STEP4 = """# Lab 14 · step 4 — /health and /metrics, as a supervisor and Prometheus see them
print(httpx.get(f"{server.url}/health").json())
metrics = httpx.get(f"{server.url}/metrics").text
keep = ("edgeagents_capstone_turns_total", "edgeagents_capstone_tool_calls_total",
        "gen_ai_client_operation_duration_seconds_count")
print("\\n".join(line for line in metrics.splitlines() if line.startswith(keep)))
print(f"chat page: {server.url}/")"""

S4 = """## 3 · Measuring success: outcomes, not wording

Public customer-service agent benchmarks (τ-bench is the best known) grade an agent by what it **did**: each task
has scripted user turns, the database state it must end in, and a few strings the final reply must contain. A
polite reply over a wrong database is a failure; a terse reply over the right one is a pass.

They also run each task several times. **pass^k** is the chance that *all* k tries of a task succeed, estimated
from c successes in n trials as C(c, k) / C(n, k) and averaged over tasks. pass^1 is the usual success rate;
pass^k asks whether a customer can *rely* on the agent, which is what a shop needs."""

STEP5 = """# Lab 14 · step 5 — the task set: categories, and one task of each
tasks = pd.DataFrame([{"id": t.id, "category": t.category, "user says": " / ".join(t.turns),
                       "rows it must write": sum(len(v) for v in t.expected.values()),
                       "reply must contain": ", ".join(t.must_contain)} for t in TASKS])
print(f"{len(TASKS)} tasks:", tasks.groupby("category", sort=False).size().to_dict())
tasks.groupby("category", sort=False).head(1)"""

PREDICT = """**Predict before you run it.** The next cell runs one task from each of seven categories, twice each, at
temperature 0.7 (so the two tries can differ). Which categories do you expect the 270M model to pass? Will pass^2
be equal to pass^1, or lower? Write your guess down; the cell after it says what happened."""

EVAL_N = 7
STEP6 = f"""# Lab 14 · step 6 — evaluate: one task per category, k=2 tries each, temperature 0.7
CATEGORIES = ["order_status", "ticket_priority", "callback_booking", "kb_answer", "missing_id", "needs_person",
              "injection"][:{EVAL_N}]
subset = [tasks_by_category()[c][0] for c in CATEGORIES]
agent = reliability.SystemAgent(system.runtime_factory, runtime=system.runtime, temperature=0.7)
report = evaluate(agent, subset, k=2)
summary = report.summary()
report.by_category()"""

STEP6B = """# Lab 14 · step 6b — what the run says, computed from it
prices = load_cloud_prices()
cloud = prices.get("gpt-4o-mini")
prompt = sum(t.prompt_tokens for t in agent.turns)
completion = sum(t.completion_tokens for t in agent.turns)
p1, p2 = summary["pass^1"], summary["pass^2"]
verdict = ("lower than pass^1: some tasks passed on one try and failed on the other" if p2 < p1 else
           "equal to pass^1: each task passed both tries or neither")
display(Markdown(
    f"**pass^1 = {p1:.2f}, pass^2 = {p2:.2f}** over {summary['tasks']} tasks × 2 tries — pass^2 is {verdict}.  \\n"
    f"Time per task: p50 {summary['p50_s']:.1f} s, p95 {summary['p95_s']:.1f} s on {settings.n_threads} thread(s); "
    f"{prompt + completion} tokens in all; this kernel holds {psutil.Process().memory_info().rss / 2**20:.0f} MB now.  \\n"
    f"The same tokens on {cloud.model} would cost about ${cloud.cost_usd(prompt, completion):.4f} "
    f"(an **estimate** from the course's price table, dated {prices.as_of}); here they cost the machine's electricity."))
px.bar(report.by_category(), x="category", y=["pass^1", "pass^2"], barmode="group", range_y=[0, 1],
       title="Lab 14 · pass^1 and pass^2 per category (this run)")"""

S5 = """Now read *why* the failed tries failed: the grader says which row was missing or unexpected, or which string the
reply lacked. These reasons are where a team decides what to fix — the policy, the router, the training data, or
the task itself."""

STEP7 = """# Lab 14 · step 7 — why each failed try failed
failed = [r for r in report.trials if not r.success]
print(f"{len(failed)} of {len(report.trials)} tries failed")
pd.DataFrame([{"task": r.task_id, "seed": r.seed, "why": "; ".join(r.reasons)[:140], "reply": r.reply.strip()[:90],
               "tools": [c["name"] for c in r.tool_calls]} for r in failed])"""

S6 = """The whole set (48 tasks × 3 tries) is a benchmark, not a lab cell: `python benchmarks/bench_capstone.py --k 3`
prints pass^1, pass^3, the per-category table and every failure's reasons.

## 4 · Breaking it on purpose

A system is reliable when the things that go wrong end well. Five runs, each on a task or two, with a fresh
runtime of their own (one of them is killed):

* **network cut** — Lab 01's network guard refuses every outbound connection; the tasks must still complete;
* **tool raises** — the store's writes fail as a locked database does; the agent must say it failed;
* **runtime killed** — the model runtime is closed 0.3 s into a turn; the system must reopen it and retry;
* **escalation down** — the runtime dies, may not be reopened, and the escalation endpoint is down: the reply
  must promise a person, and nothing may be written;
* **burst** — four users at once against the HTTP service with `max_pending=2`: answers or 429, never a 5xx.

Two numbers must stay at zero in every run: **false done** (a failed tool call whose reply claims it happened) and
**half-written** (rows that no successful, reported tool call accounts for — what a crash leaves behind without a
transaction). "tasks passed" is the grader's verdict, as in section 3: a run can keep both zeros and still fail
the task (the agent may do the wrong thing), and that is reported too."""

STEP8 = """# Lab 14 · step 8 — five reliability runs on their own runtime
by_id = {t.id: t for t in TASKS}
rel_agent = reliability.SystemAgent.open(n_threads=settings.n_threads)
runs = [reliability.network_cut(rel_agent, [by_id["order-status-01"], by_id["kb-03"]]),
        reliability.tool_raises(rel_agent, [by_id["ticket-02"]]),
        reliability.runtime_killed(rel_agent, [by_id["ticket-02"]]),
        reliability.escalation_down(rel_agent, [by_id["order-status-01"]])]
burst_system = CapstoneSystem(rel_agent.live_runtime(), store=BusinessStore.open_memory(), max_pending=2)
runs.append(reliability.burst(burst_system, ["Where is my order ORD-1001?", "How long does shipping take?"], users=4))
reliability.table(runs)"""

STEP8B = """# Lab 14 · step 8b — did the two zeros hold? (computed from the runs above)
bad = [r.scenario for r in runs if r.false_done or r.half_written]
display(Markdown("Both zeros held in every run." if not bad else
                 f"**Not in: {', '.join(bad)}** — read that row's detail: this is a bug to report."))"""

S7 = """## 5 · A production checklist, run against the live system

The guide ends its Foundry Local, vLLM and Ollama sections with what production needs: a right-sized local
model, health checks, metrics, bounded load, offline operation, security, failover. Here every item is *checked*
on the running service — an HTTP request, a reliability run's numbers, the audit log — and shows the evidence it
read. ✅ holds, ❌ does not, — was not measured."""

STEP9 = """# Lab 14 · step 9 — the production checklist against the live system
checks = production_checklist(system, server.url, runs)
held = sum(c.holds is True for c in checks)
display(Markdown(f"**{held} of {len(checks)} items hold** on this machine, now."))
checklist_table(checks)"""

S8 = """## 6 · Exercises

### Exercise 14.1 · A tool of your own
The guide's examples include a kiosk inventory check. The shop's store has a products table with stock counts, but
no tool reads it — so today "Is the Home hub in stock?" can only be handed to a person. Write `check_stock`: a plain
typed function with a docstring is all the Agent Framework needs (`agent_framework.tool` reads both)."""

EX1_LAB = """# Lab 14 · exercise 14.1 — a tool of your own: a stock check
def check_stock(sku: str) -> str:
    \"\"\"How many units of a product are in stock, by its SKU (for example SKU-HUB).\"\"\"
    products = {p["sku"]: p for p in system.store.products()}
    ...   # your code here: return e.g. "Home hub H3 (SKU-HUB): 6 in stock", or "SKU-XYZ not found"

got = {sku: check_stock(sku) for sku in ("SKU-HUB", "SKU-CAM", "SKU-NOPE")}
check.that("14.1", lambda: all(isinstance(v, str) for v in got.values()) and "6" in got["SKU-HUB"]
           and "0" in got["SKU-CAM"] and "not found" in got["SKU-NOPE"].lower(),
           ok=f"{got}", hint="row = products.get(sku); no row: f'{sku} not found'; else name, sku and row['stock'].")"""

EX1_SOL = """# Lab 14 · exercise 14.1 — a tool of your own: a stock check
def check_stock(sku: str) -> str:
    \"\"\"How many units of a product are in stock, by its SKU (for example SKU-HUB).\"\"\"
    products = {p["sku"]: p for p in system.store.products()}
    # the tool reads the store and says plainly when the SKU does not exist: the model answers from this text
    row = products.get(sku.strip().upper())
    if row is None:
        return f"{sku} not found"
    return f"{row['name']} ({row['sku']}): {row['stock']} in stock"

got = {sku: check_stock(sku) for sku in ("SKU-HUB", "SKU-CAM", "SKU-NOPE")}
check.that("14.1", lambda: all(isinstance(v, str) for v in got.values()) and "6" in got["SKU-HUB"]
           and "0" in got["SKU-CAM"] and "not found" in got["SKU-NOPE"].lower(),
           ok=f"{got}", hint="row = products.get(sku); no row: f'{sku} not found'; else name, sku and row['stock'].")"""

S8B = """Now offer it to the agent next to the shop's tools (`extra_tools`) and grade it on a task written for it: the
reply must contain the stock count. Whether the 270M model picks your tool is its behaviour, not yours — the cell
says what it did."""

STEP10 = """# Lab 14 · step 10 — offer your tool and evaluate the agent on a stock task
stock_task = Task("stock-01", "stock", ["How many Home hub H3 do you have in stock? The SKU is SKU-HUB."],
                  must_contain=["6"])
with_tool = reliability.SystemAgent(system.runtime_factory, runtime=system.runtime, extra_tools=[check_stock])
trial = evaluate(with_tool, [stock_task], k=1).trials[0]
called = [c["name"] for c in trial.tool_calls]
print("agent:", trial.reply.strip())
print("tools it called:", called, "· passed" if trial.success else f"· failed: {'; '.join(trial.reasons)}")
display(Markdown(f"The model {'called' if 'check_stock' in called else 'did **not** call'} `check_stock`"
                 f"{' and the task passed.' if trial.success else '; the task failed — see the reasons above.'}"))"""

S9 = """### Exercise 14.2 · pass^k by hand
`report.pass_at(k)` did this for you. Compute pass^2 from the raw successes: for each task, C(c, 2) / C(n, 2)
with n = 2 tries, then the mean over tasks."""

EX2_LAB = """# Lab 14 · exercise 14.2 — pass^2 from the trials, by hand
successes = report.successes()     # task id -> c, the tries (of n = 2) that succeeded
my_pass_2 = ...   # your code here

check.that("14.2", lambda: not check.not_done(my_pass_2) and abs(my_pass_2 - report.pass_at(2)) < 1e-9,
           ok=f"pass^2 = {report.pass_at(2):.3f}, the same as report.pass_at(2).",
           hint="sum(math.comb(c, 2) / math.comb(2, 2) for c in successes.values()) / len(successes)")"""

EX2_SOL = """# Lab 14 · exercise 14.2 — pass^2 from the trials, by hand
successes = report.successes()     # task id -> c, the tries (of n = 2) that succeeded
# with n = k = 2, C(c, 2) / C(2, 2) is 1 only when both tries passed: pass^2 counts the tasks that never failed
my_pass_2 = sum(math.comb(c, 2) / math.comb(2, 2) for c in successes.values()) / len(successes)

check.that("14.2", lambda: not check.not_done(my_pass_2) and abs(my_pass_2 - report.pass_at(2)) < 1e-9,
           ok=f"pass^2 = {report.pass_at(2):.3f}, the same as report.pass_at(2).",
           hint="sum(math.comb(c, 2) / math.comb(2, 2) for c in successes.values()) / len(successes)")"""

S10 = """### Exercise 14.3 · A checklist item of your own
A shop sets a response-time target: the turn 95 % of customers wait for at most. Pick a target, compute the p95 of
the turns this system has answered, and write it as a `Check` whose `holds` is computed, not typed in."""

EX3_LAB = """# Lab 14 · exercise 14.3 — a response-time target as a checklist item
TARGET_P95_S = 20.0                # your choice
turn_seconds = [t.seconds for t in system.turns + agent.turns]
my_check = ...   # your code here: Check("service", "p95 turn time under the target", holds=..., evidence=...)

measured = percentile(turn_seconds, 95)
check.that("14.3", lambda: isinstance(my_check, Check) and my_check.holds == (measured <= TARGET_P95_S),
           ok=f"p95 {measured:.1f} s against {TARGET_P95_S} s: {'holds' if measured <= TARGET_P95_S else 'does not hold'}.",
           hint="p95 = percentile(turn_seconds, 95); Check(..., holds=p95 <= TARGET_P95_S, evidence=f'p95 {p95:.1f} s')")"""

EX3_SOL = """# Lab 14 · exercise 14.3 — a response-time target as a checklist item
TARGET_P95_S = 20.0                # your choice
turn_seconds = [t.seconds for t in system.turns + agent.turns]
# the evidence is the measurement itself, so the item can be re-checked on any machine and any day
p95 = percentile(turn_seconds, 95)
my_check = Check("service", "p95 turn time under the target", holds=p95 <= TARGET_P95_S,
                 evidence=f"p95 {p95:.1f} s over {len(turn_seconds)} turns, target {TARGET_P95_S} s")

measured = percentile(turn_seconds, 95)
check.that("14.3", lambda: isinstance(my_check, Check) and my_check.holds == (measured <= TARGET_P95_S),
           ok=f"p95 {measured:.1f} s against {TARGET_P95_S} s: {'holds' if measured <= TARGET_P95_S else 'does not hold'}.",
           hint="p95 = percentile(turn_seconds, 95); Check(..., holds=p95 <= TARGET_P95_S, evidence=f'p95 {p95:.1f} s')")"""

QUIZ = """# Lab 14 · quiz (the answers live in edgeagents/data/quizzes/14.json, not in this notebook)
Quiz.load("14")"""

TIDY = """# Lab 14 · tidy up (safe to run twice)
for thing in ("server", "burst_system", "rel_agent", "with_tool", "agent", "system"):
    if thing in globals():
        globals()[thing].close()"""

SUMMARY = """## Summary

* `CapstoneSystem` joined the course's parts: the Agent Framework agent on the course model, the gated and audited
  business tools, one transaction per turn, a bounded queue, sessions, and failover from a restarted runtime to an
  escalation endpoint to "a person will follow up".
* `serve(system)` put it behind the OpenAI chat API on 127.0.0.1, with streaming, `/health`, Prometheus `/metrics`
  and a chat page; the real `openai` client talked to it.
* You graded the agent by outcomes — database state and reply — and read pass^1 and pass^k from your own run,
  with the reasons behind each failure.
* The reliability runs broke the network, a tool, the runtime and the escalation path, and counted false "done"
  replies and half-written rows; the checklist then checked the live service item by item.
* You added a tool, offered it to the agent and saw what the model did with it.

That is the course: from what an agent is (Lab 01) to a system you measured. The README lists where to go next.

**Previous:** [Lab 13 · Monitoring](13_monitoring.ipynb) · **Back to the start:** [Lab 00 · Start here](00_start_here.ipynb)
"""


def cells(solutions: bool) -> list:
    ex1, ex2, ex3 = (EX1_SOL, EX2_SOL, EX3_SOL) if solutions else (EX1_LAB, EX2_LAB, EX3_LAB)
    intro = INTRO
    if solutions:
        intro = intro.replace("# Lab 14 · Capstone", "# Lab 14 · Capstone — worked solutions", 1)
        intro = intro.replace("**You will:**", "*This is the solutions notebook: every exercise is worked, with a "
                                               "sentence on why.*\n\n**You will:**", 1)
    return [md(intro), code(STEP0), md(GUIDE_STEPS), md(S1), code(STEP1), md(S1B), code(STEP1B), md(S2), code(STEP2),
            code(STEP3), md(S3), code(STEP4), md(S4), code(STEP5), md(PREDICT), code(STEP6), code(STEP6B), md(S5),
            code(STEP7), md(S6), code(STEP8), code(STEP8B), md(S7), code(STEP9), md(S8), exercise(ex1, "14.1", "code"), md(S8B),
            code(STEP10), md(S9), exercise(ex2, "14.2", "calc"), md(S10), exercise(ex3, "14.3", "code"), md("## 7 · Quiz"), code(QUIZ), code(TIDY),
            md(SUMMARY)]


def write(path: Path, solutions: bool) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    nb.cells = cells(solutions)
    for i, c in enumerate(nb.cells):  # stable ids keep the diffs of a regenerated notebook small
        c.id = f"lab14-{i:02d}"
    nbformat.write(nb, path)


if __name__ == "__main__":
    from edgeagents.labtable import update_notebook

    for path, solutions in ((REPO / "labs" / "14_capstone.ipynb", False),
                            (REPO / "labs" / "solutions" / "14_capstone_solutions.ipynb", True)):
        write(path, solutions)
        update_notebook(path)  # the run-time line, from this machine's measured runs (make lab-table)
    print("wrote labs/14_capstone.ipynb and labs/solutions/14_capstone_solutions.ipynb")
