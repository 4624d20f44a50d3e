"""Simple reflex agents: the action depends on the current percept only, through fixed rules.

A reflex agent has no memory and no model of the world. It is fast, predictable and cheap,
and it fails as soon as the right action depends on something it cannot see *right now*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgeagents.agents.taxonomy.environments import MOVES, ThermostatWorld, VacuumPercept
from edgeagents.errors import InvalidRequestError

ThermostatRule = Callable[[float], str]
"""A thermostat policy: room temperature in, ``"heat"`` / ``"cool"`` / ``"off"`` out."""


@dataclass(frozen=True)
class ReflexThermostat:
    """Condition-action rules: heat below ``heat_below``, cool above ``cool_above``, else off."""

    heat_below: float = 20.0
    cool_above: float = 22.0

    def __post_init__(self) -> None:
        if not self.heat_below <= self.cool_above:
            raise InvalidRequestError(
                f"heat_below ({self.heat_below}) must not be above cool_above ({self.cool_above}).",
                hint="Otherwise some temperatures would ask for heating and cooling at once.",
            )

    def __call__(self, temperature: float) -> str:
        if temperature < self.heat_below:
            return "heat"
        if temperature > self.cool_above:
            return "cool"
        return "off"


@dataclass(frozen=True)
class ThermostatRun:
    """One day of a thermostat policy: temperatures, actions and the share of steps in the band."""

    temperatures: np.ndarray
    actions: list[str]
    outside: np.ndarray
    in_band_share: float


def run_thermostat(
    policy: ThermostatRule, world: ThermostatWorld | None = None, *, seed: int = 0, steps: int = 96
) -> ThermostatRun:
    """Perceive-decide-act loop: read the temperature, ask ``policy``, apply the action; ``steps`` times.

    The score counts the temperatures *after* each action (what the policy caused).
    """
    if steps <= 0:
        raise InvalidRequestError(f"steps must be at least 1, not {steps}.")
    world = world if world is not None else ThermostatWorld()
    temperature = world.reset(seed)
    temps, acts, outside = [temperature], [], []
    for _ in range(steps):
        outside.append(world.outside())
        action = policy(temperature)
        acts.append(action)
        temperature = world.step(action)
        temps.append(temperature)
    arr = np.asarray(temps)
    share = float(np.mean((arr[1:] >= world.low) & (arr[1:] <= world.high)))
    return ThermostatRun(arr, acts, np.asarray(outside), share)


def band_score(
    policy: ThermostatRule,
    *,
    seeds: range | list[int] = range(20),
    steps: int = 96,
    world: ThermostatWorld | None = None,
) -> float:
    """Mean share of steps in the comfort band over several seeded days."""
    return float(np.mean([run_thermostat(policy, world, seed=s, steps=steps).in_band_share for s in seeds]))


class ReflexVacuum:
    """The best a memoryless vacuum can do: suck if dirty, otherwise move in a random direction."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)
        self._moves = list(MOVES)

    def __call__(self, percept: VacuumPercept) -> str:
        if percept.dirty:
            return "suck"
        return self._moves[int(self._rng.integers(len(self._moves)))]
