"""Small, seeded worlds for the four classical agent types (Lab 01).

Each world is a plain Python object with ``reset()`` and ``step(action)``; an agent only sees
what the world's *percept* tells it. Everything random draws from a ``numpy`` generator made
from the seed, so the same seed always gives the same episode.

- :class:`ThermostatWorld`: a room that leaks heat to a daily outside-temperature cycle; a
  thermostat may ``heat``, ``cool`` or stay ``off``. Percept: the room temperature.
- :class:`VacuumWorld`: a walled grid with dirt; the robot only feels whether its own cell is
  dirty and whether its last move bumped into a wall. It does **not** see its position.
- :class:`GridMap`: a map with terrain costs for route planning (parsed from ASCII art).
- :class:`BernoulliBandit`: items a recommender can show; each is clicked with a hidden rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edgeagents.errors import InvalidRequestError

# --------------------------------------------------------------------------- helpers


def check_action(action: object, allowed: Sequence[str], world: str) -> str:
    """Return ``action`` if it is one of ``allowed``; otherwise raise :class:`InvalidRequestError`."""
    if not isinstance(action, str) or action not in allowed:
        raise InvalidRequestError(
            f"{world} does not know the action {action!r}.",
            hint=f"Use one of: {', '.join(allowed)}.",
        )
    return action


# --------------------------------------------------------------------------- thermostat

THERMOSTAT_ACTIONS: tuple[str, ...] = ("heat", "cool", "off")


@dataclass
class ThermostatWorld:
    """A room whose temperature drifts towards the outside air; the agent can heat or cool it.

    One step is 15 minutes (96 steps a day). Each step::

        T <- T + leak * (outside(t) - T) + power * {heat: +1, cool: -1, off: 0} + noise

    The goal is to keep ``low <= T <= high``; :attr:`in_band` history is the score.
    """

    low: float = 20.0
    high: float = 22.0
    outside_mean: float = 17.0
    outside_swing: float = 10.0
    leak: float = 0.05
    power: float = 1.0
    noise: float = 0.25
    steps_per_day: int = 96
    seed: int = 0
    temperature: float = field(init=False, default=0.0)
    t: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise InvalidRequestError(f"The comfort band needs low < high, got {self.low} and {self.high}.")
        self.reset(self.seed)

    @property
    def actions(self) -> tuple[str, ...]:
        return THERMOSTAT_ACTIONS

    def outside(self, t: int | None = None) -> float:
        """Outside temperature at step ``t``: coldest at 04:00, warmest at 16:00."""
        t = self.t if t is None else t
        phase = 2 * math.pi * (t / self.steps_per_day - 10 / 24)
        return self.outside_mean + self.outside_swing * math.sin(phase)

    def reset(self, seed: int | None = None) -> float:
        """Start a new day; returns the first percept (the room temperature)."""
        self.seed = self.seed if seed is None else seed
        self._rng = np.random.default_rng(self.seed)
        self.t = 0
        self.temperature = float(self._rng.uniform(self.low - 3, self.high + 3))
        return self.temperature

    def in_band(self, temperature: float | None = None) -> bool:
        temperature = self.temperature if temperature is None else temperature
        return self.low <= temperature <= self.high

    def step(self, action: str) -> float:
        """Apply ``heat`` / ``cool`` / ``off`` for one step; returns the new temperature."""
        check_action(action, THERMOSTAT_ACTIONS, "ThermostatWorld")
        push = {"heat": 1.0, "cool": -1.0, "off": 0.0}[action]
        drift = self.leak * (self.outside() - self.temperature)
        self.temperature = float(self.temperature + drift + self.power * push + self._rng.normal(0, self.noise))
        self.t += 1
        return self.temperature


# --------------------------------------------------------------------------- vacuum world

MOVES: dict[str, tuple[int, int]] = {"north": (-1, 0), "south": (1, 0), "east": (0, 1), "west": (0, -1)}
VACUUM_ACTIONS: tuple[str, ...] = ("suck", "north", "south", "east", "west", "stop")


@dataclass(frozen=True)
class VacuumPercept:
    """What the robot senses: is its cell dirty, and did its last move hit a wall."""

    dirty: bool
    bumped: bool


@dataclass
class VacuumWorld:
    """A rectangular room with furniture (walls) and dirt; the robot never sees its coordinates.

    ``layout`` cells are ``True`` where the robot can drive. A step that moves into a wall
    leaves the robot in place and sets ``bumped``. ``stop`` ends the episode (the robot
    believes it is done). Score: the share of the starting dirt that has been sucked up.
    """

    rows: int = 7
    cols: int = 7
    obstacle_rate: float = 0.15
    dirt_rate: float = 0.35
    seed: int = 0
    free: np.ndarray = field(init=False, repr=False)
    dirt: np.ndarray = field(init=False, repr=False)
    position: tuple[int, int] = field(init=False, default=(0, 0))

    def __post_init__(self) -> None:
        if self.rows < 2 or self.cols < 2:
            raise InvalidRequestError(f"A vacuum world needs at least 2x2 cells, got {self.rows}x{self.cols}.")
        self.reset(self.seed)

    @property
    def actions(self) -> tuple[str, ...]:
        return VACUUM_ACTIONS

    def reset(self, seed: int | None = None) -> VacuumPercept:
        self.seed = self.seed if seed is None else seed
        rng = np.random.default_rng(self.seed)
        free = rng.random((self.rows, self.cols)) >= self.obstacle_rate
        cells = np.argwhere(free)
        start = tuple(int(v) for v in cells[rng.integers(len(cells))])
        free = _reachable(free, start)  # cut off pockets the robot could never reach
        self.free = free
        self.dirt = free & (rng.random(free.shape) < self.dirt_rate)
        self.position = start
        self.initial_dirt = int(self.dirt.sum())
        self.done = False
        self.steps = 0
        self._bumped = False
        return self.percept()

    def percept(self) -> VacuumPercept:
        return VacuumPercept(dirty=bool(self.dirt[self.position]), bumped=self._bumped)

    def step(self, action: str) -> VacuumPercept:
        check_action(action, VACUUM_ACTIONS, "VacuumWorld")
        self._bumped = False
        self.steps += 1
        if action == "suck":
            self.dirt[self.position] = False
        elif action == "stop":
            self.done = True
        else:
            dr, dc = MOVES[action]
            r, c = self.position[0] + dr, self.position[1] + dc
            if 0 <= r < self.rows and 0 <= c < self.cols and self.free[r, c]:
                self.position = (r, c)
            else:
                self._bumped = True
        return self.percept()

    @property
    def cleaned_share(self) -> float:
        """Share of the starting dirt removed so far (1.0 when the room started clean)."""
        if self.initial_dirt == 0:
            return 1.0
        return 1.0 - float(self.dirt.sum()) / self.initial_dirt


def _reachable(free: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    seen = np.zeros_like(free)
    stack = [start]
    seen[start] = True
    while stack:
        r, c = stack.pop()
        for dr, dc in MOVES.values():
            nr, nc = r + dr, c + dc
            if 0 <= nr < free.shape[0] and 0 <= nc < free.shape[1] and free[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                stack.append((nr, nc))
    return seen


# --------------------------------------------------------------------------- route map

TERRAIN_COST: dict[str, float] = {".": 1.0, "S": 1.0, "G": 1.0, ",": 3.0, "~": 8.0}
"""``.`` road (1), ``,`` grass (3), ``~`` mud (8), ``#`` wall; ``S`` start and ``G`` goal are road."""


@dataclass(frozen=True)
class GridMap:
    """A route-planning map: entering a cell costs that cell's terrain cost."""

    cost: np.ndarray  # float, np.inf for walls
    start: tuple[int, int]
    goal: tuple[int, int]

    @classmethod
    def from_ascii(cls, art: str | Sequence[str]) -> GridMap:
        """Parse a map drawn with ``. , ~ # S G`` (one row per line)."""
        lines = [ln.strip() for ln in (art.splitlines() if isinstance(art, str) else art) if ln.strip()]
        if not lines:
            raise InvalidRequestError("The map is empty.", hint="Draw at least one row, e.g. 'S..G'.")
        if len({len(ln) for ln in lines}) != 1:
            raise InvalidRequestError("Every row of the map must have the same length.")
        cost = np.full((len(lines), len(lines[0])), np.inf)
        start = goal = None
        for r, line in enumerate(lines):
            for c, ch in enumerate(line):
                if ch == "#":
                    continue
                if ch not in TERRAIN_COST:
                    raise InvalidRequestError(
                        f"Unknown map symbol {ch!r} at row {r}, column {c}.",
                        hint="Use . (road), , (grass), ~ (mud), # (wall), S (start), G (goal).",
                    )
                cost[r, c] = TERRAIN_COST[ch]
                if ch == "S":
                    start = (r, c)
                if ch == "G":
                    goal = (r, c)
        if start is None or goal is None:
            raise InvalidRequestError("The map needs exactly one S (start) and one G (goal).")
        return cls(cost, start, goal)

    @property
    def shape(self) -> tuple[int, int]:
        return self.cost.shape  # type: ignore[return-value]

    def passable(self, cell: tuple[int, int]) -> bool:
        r, c = cell
        return 0 <= r < self.cost.shape[0] and 0 <= c < self.cost.shape[1] and bool(np.isfinite(self.cost[r, c]))

    def neighbours(self, cell: tuple[int, int]) -> list[tuple[tuple[int, int], float]]:
        """Passable 4-neighbours of ``cell`` with the cost of stepping into each."""
        out = []
        for dr, dc in MOVES.values():
            nxt = (cell[0] + dr, cell[1] + dc)
            if self.passable(nxt):
                out.append((nxt, float(self.cost[nxt])))
        return out

    def path_cost(self, path: Sequence[tuple[int, int]]) -> float:
        """Cost of walking ``path`` (the first cell is where you stand, so it is free)."""
        total = 0.0
        for a, b in zip(path, path[1:]):
            if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1 or not self.passable(b):
                raise InvalidRequestError(f"The path steps from {a} to {b}, which is not one legal move.")
            total += float(self.cost[b])
        return total


def random_map(rows: int = 15, cols: int = 25, seed: int = 0, wall_rate: float = 0.2) -> GridMap:
    """A seeded random map with road, grass, mud and walls; start top-left, goal bottom-right."""
    if not 0 <= wall_rate <= 0.3:
        raise InvalidRequestError(f"wall_rate must be between 0 and 0.3, not {wall_rate}.")
    rng = np.random.default_rng(seed)
    symbols = rng.choice([".", ",", "~", "#"], size=(rows, cols), p=[0.45, 0.25, 0.1 + (0.2 - wall_rate), wall_rate])
    symbols[0, 0], symbols[-1, -1] = "S", "G"
    return GridMap.from_ascii(["".join(row) for row in symbols])


# --------------------------------------------------------------------------- bandit


@dataclass
class BernoulliBandit:
    """A recommender's world: showing item ``i`` earns a click (1) with hidden probability ``rates[i]``."""

    rates: Sequence[float]
    seed: int = 0

    def __post_init__(self) -> None:
        rates = np.asarray(self.rates, dtype=float)
        if rates.ndim != 1 or len(rates) < 2:
            raise InvalidRequestError("A bandit needs at least two items (a list of click rates).")
        if np.any((rates < 0) | (rates > 1)):
            raise InvalidRequestError("Click rates are probabilities: each must be between 0 and 1.")
        self.rates = rates
        self.reset(self.seed)

    @property
    def n_arms(self) -> int:
        return len(self.rates)

    @property
    def best_rate(self) -> float:
        return float(np.max(self.rates))

    def reset(self, seed: int | None = None) -> None:
        self.seed = self.seed if seed is None else seed
        self._rng = np.random.default_rng(self.seed)

    def pull(self, arm: int) -> float:
        """Show item ``arm``; returns 1.0 for a click, 0.0 otherwise."""
        if isinstance(arm, bool) or not isinstance(arm, (int, np.integer)) or not 0 <= arm < self.n_arms:
            raise InvalidRequestError(
                f"There is no item {arm!r}.", hint=f"Items are numbered 0 to {self.n_arms - 1}."
            )
        return float(self._rng.random() < self.rates[arm])
