"""The agents labs' name for the course-wide network guard, :mod:`edgeagents.netguard`.

>>> with offline_guard() as guard:
...     agent_run()                      # works: the model is in-process, the store is a file
>>> guard.blocked                        # what tried to leave the machine, as (what, target) pairs
[]

There is one guard in the course; this module only keeps the name Lab 11 teaches.
"""

from __future__ import annotations

from edgeagents.netguard import NetworkBlockedError, NetworkGuard, is_loopback
from edgeagents.netguard import offline as offline_guard

__all__ = ["NetworkBlockedError", "NetworkGuard", "is_loopback", "offline_guard"]
