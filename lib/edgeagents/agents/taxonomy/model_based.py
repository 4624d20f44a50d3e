"""Model-based agents: keep an internal state that stands in for what the percept does not show.

The vacuum robot cannot see where it is. :class:`MappingVacuum` keeps a model of its world:
where it is relative to its starting cell (dead reckoning: it knows what each move does, and
a bump tells it the move failed), which cells it has visited, and which are walls. With that
memory it drives to the nearest cell it has not explored yet instead of wandering, and it
knows when the whole reachable room has been covered, so it can stop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edgeagents.agents.taxonomy.environments import MOVES, VacuumPercept, VacuumWorld
from edgeagents.errors import InvalidRequestError

Cell = tuple[int, int]


@dataclass
class MappingVacuum:
    """A vacuum agent with memory: a map of visited cells and walls, built as it drives.

    Its state (``position``, ``visited``, ``walls``) is in its own coordinates, with the start
    at ``(0, 0)``; it never reads the world's true position.
    """

    position: Cell = (0, 0)
    visited: set[Cell] = field(default_factory=lambda: {(0, 0)})
    walls: set[Cell] = field(default_factory=set)
    _last_move: str | None = field(default=None, repr=False)
    _plan: list[str] = field(default_factory=list, repr=False)

    def __call__(self, percept: VacuumPercept) -> str:
        self._update(percept)
        if percept.dirty:
            return "suck"
        if not self._plan:
            self._plan = self._plan_to_frontier()
        if not self._plan:
            return "stop"  # every reachable cell has been visited
        move = self._plan.pop(0)
        self._last_move = move
        return move

    def _update(self, percept: VacuumPercept) -> None:
        """Fold the last move and this percept into the internal map."""
        if self._last_move is None:
            return
        dr, dc = MOVES[self._last_move]
        target = (self.position[0] + dr, self.position[1] + dc)
        if percept.bumped:
            self.walls.add(target)
            self._plan = []  # the plan went through a wall: make a new one
        else:
            self.position = target
            self.visited.add(target)
        self._last_move = None

    def _plan_to_frontier(self) -> list[str]:
        """Breadth-first search over known free cells to the nearest unknown neighbour."""
        start = self.position
        queue: deque[tuple[Cell, list[str]]] = deque([(start, [])])
        seen = {start}
        while queue:
            cell, path = queue.popleft()
            for move, (dr, dc) in MOVES.items():
                nxt = (cell[0] + dr, cell[1] + dc)
                if nxt in seen or nxt in self.walls:
                    continue
                seen.add(nxt)
                if nxt not in self.visited:
                    return path + [move]  # step into the unknown
                queue.append((nxt, path + [move]))
        return []


VacuumAgent = Callable[[VacuumPercept], str]


@dataclass(frozen=True)
class VacuumEpisode:
    """One vacuum episode: the cleaned share after every step, and the positions visited."""

    cleaned: np.ndarray
    positions: list[Cell]
    dirt_frames: list[np.ndarray]
    actions: list[str]
    stopped_at: int | None


def run_vacuum(agent: VacuumAgent, world: VacuumWorld, *, seed: int, steps: int = 120, record: bool = False) -> VacuumEpisode:
    """Run one seeded episode for at most ``steps`` actions (or until the agent says ``stop``).

    ``cleaned[k]`` is the share of dirt removed after ``k`` steps; after a stop it stays flat.
    ``record=True`` keeps a dirt snapshot per step (for animations).
    """
    if steps <= 0:
        raise InvalidRequestError(f"steps must be at least 1, not {steps}.")
    percept = world.reset(seed)
    cleaned = np.empty(steps + 1)
    cleaned[0] = world.cleaned_share
    positions, frames, actions = [world.position], [world.dirt.copy()] if record else [], []
    stopped_at = None
    for k in range(1, steps + 1):
        if stopped_at is None:
            action = agent(percept)
            actions.append(action)
            percept = world.step(action)
            positions.append(world.position)
            if record:
                frames.append(world.dirt.copy())
            if world.done:
                stopped_at = k
        cleaned[k] = world.cleaned_share
    return VacuumEpisode(cleaned, positions, frames, actions, stopped_at)


def compare_vacuums(
    make_agents: dict[str, Callable[[int], VacuumAgent]],
    *,
    seeds: range | list[int] = range(100),
    steps: int = 120,
    world: VacuumWorld | None = None,
) -> dict[str, np.ndarray]:
    """Cleaned-share curves (seeds x steps+1) for each agent factory, on the same seeded rooms."""
    world = world if world is not None else VacuumWorld()
    return {
        name: np.stack([run_vacuum(make(seed), world, seed=seed, steps=steps).cleaned for seed in seeds])
        for name, make in make_agents.items()
    }
