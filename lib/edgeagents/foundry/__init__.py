"""Foundry Local for the course: the SDK manager, the catalogs, bring-your-own-model, production patterns.

- :mod:`edgeagents.foundry.sdk`: the process-wide manager with folders under ``$EDGEAGENTS_HOME/foundry``.
- :mod:`edgeagents.foundry.catalog`: the public catalog (cached per process; offline means empty) and the local one.
- :mod:`edgeagents.foundry.byom`: the course model's registration folder and idempotent registration.
- :mod:`edgeagents.foundry.service`: the guide's agent service, monitor and resource manager on the real API.

The runtime itself is :class:`edgeagents.runtimes.foundry_local.FoundryLocalRuntime`.
Everything imports without the SDK; calls that need it raise
:class:`~edgeagents.errors.RuntimeUnavailableError` saying what to install.
"""

from edgeagents.foundry.sdk import close_manager, manager, sdk_available, why_unavailable

__all__ = ["close_manager", "manager", "sdk_available", "why_unavailable"]
