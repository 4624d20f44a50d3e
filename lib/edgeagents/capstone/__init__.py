"""Lab 14 capstone: an offline customer-service agent, evaluated like an agent benchmark (pass^k).

* :mod:`~edgeagents.capstone.tasks` — the task set over the seeded business store.
* :mod:`~edgeagents.capstone.evaluate` — run an agent on each task k times; pass^1, pass^k, latency, tokens.
* :mod:`~edgeagents.capstone.agent` — the real Agent Framework agent on the course model, as an ``agent_fn``.

>>> from edgeagents.capstone import TASKS, evaluate
>>> report = evaluate(my_agent_fn, TASKS, k=3)        # doctest: +SKIP
>>> report.summary()["pass^3"]                          # doctest: +SKIP
"""

from edgeagents.capstone.evaluate import AgentReply, Report, Trial, evaluate, pass_hat_k, run_task
from edgeagents.capstone.tasks import CAPSTONE_NOW, CATEGORIES, TASKS, Task

__all__ = ["AgentReply", "Report", "Trial", "evaluate", "pass_hat_k", "run_task", "Task", "TASKS", "CATEGORIES",
           "CAPSTONE_NOW"]
