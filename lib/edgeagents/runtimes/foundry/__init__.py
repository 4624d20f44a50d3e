"""Foundry Local (lab 08): the in-process runtime over foundry-local-sdk, and what it needs around it.

- :mod:`.sdk`: the process-wide manager with folders under ``$EDGEAGENTS_HOME/foundry``.
- :mod:`.catalog`: the public catalog (cached per process; offline means empty) and the local one.
- :mod:`.byom`: the course model's registration folder and idempotent registration.
- :mod:`.runtime`: :class:`~edgeagents.runtimes.foundry.runtime.FoundryLocalRuntime`.

Everything imports without the SDK; calls that need it raise :class:`~edgeagents.errors.RuntimeUnavailableError`
saying what to install.
"""

from edgeagents.runtimes.foundry.sdk import close_manager, manager, sdk_available, why_unavailable

__all__ = ["close_manager", "manager", "sdk_available", "why_unavailable"]
