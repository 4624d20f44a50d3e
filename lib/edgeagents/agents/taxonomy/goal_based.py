"""Goal-based agents: plan a whole sequence of actions that reaches a goal, then carry it out.

The planner is a real graph search on a :class:`GridMap`:

- :func:`uniform_cost_search` (Dijkstra): expands the cheapest frontier cell first; optimal.
- :func:`a_star`: the same, ordered by cost-so-far + a *heuristic* estimate of the cost left.
  With an admissible heuristic (never over-estimates) it is still optimal and expands fewer cells.
- :func:`breadth_first_search`: fewest *steps*, blind to terrain cost; shows why cost matters.

:class:`RouteAgent` is the agent: it plans from where it stands and re-plans when the world
surprises it (a cell on its plan turned out to be blocked).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edgeagents.agents.taxonomy.environments import MOVES, GridMap
from edgeagents.errors import InvalidRequestError

Cell = tuple[int, int]
Heuristic = Callable[[Cell, Cell], float]


def manhattan(a: Cell, b: Cell) -> float:
    """Grid distance; admissible when every step costs at least 1."""
    return float(abs(a[0] - b[0]) + abs(a[1] - b[1]))


def zero(a: Cell, b: Cell) -> float:  # noqa: ARG001 - the signature is the heuristic interface
    """No estimate at all: A* with this heuristic *is* uniform-cost search."""
    return 0.0


@dataclass(frozen=True)
class SearchResult:
    """A plan (list of cells from start to goal, empty if unreachable) and what it took to find it."""

    algorithm: str
    path: list[Cell]
    cost: float
    expanded: int
    expanded_order: list[Cell] = field(repr=False, default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.path)

    @property
    def moves(self) -> list[str]:
        """The plan as moves (``north``, ``east``...)."""
        names = {v: k for k, v in MOVES.items()}
        return [names[(b[0] - a[0], b[1] - a[1])] for a, b in zip(self.path, self.path[1:])]


def _check_endpoints(grid: GridMap, start: Cell, goal: Cell) -> None:
    for name, cell in (("start", start), ("goal", goal)):
        if not grid.passable(cell):
            raise InvalidRequestError(
                f"The {name} {cell} is outside the map or inside a wall.",
                hint=f"Pick a {name} on a road, grass or mud cell of a {grid.shape[0]}x{grid.shape[1]} map.",
            )


def a_star(
    grid: GridMap,
    start: Cell | None = None,
    goal: Cell | None = None,
    heuristic: Heuristic = manhattan,
    *,
    name: str = "A*",
) -> SearchResult:
    """Cheapest path from ``start`` to ``goal`` (the map's own by default).

    Optimal whenever ``heuristic`` never over-estimates the true remaining cost.
    """
    start = grid.start if start is None else start
    goal = grid.goal if goal is None else goal
    _check_endpoints(grid, start, goal)
    tie = 0  # breaks ties in insertion order, so runs are deterministic
    frontier: list[tuple[float, int, Cell]] = [(heuristic(start, goal), tie, start)]
    best: dict[Cell, float] = {start: 0.0}
    parent: dict[Cell, Cell] = {}
    closed: set[Cell] = set()
    order: list[Cell] = []
    while frontier:
        _, _, cell = heapq.heappop(frontier)
        if cell in closed:
            continue
        closed.add(cell)
        order.append(cell)
        if cell == goal:
            path = [cell]
            while path[-1] != start:
                path.append(parent[path[-1]])
            return SearchResult(name, path[::-1], best[goal], len(order), order)
        for nxt, step in grid.neighbours(cell):
            g = best[cell] + step
            if g < best.get(nxt, np.inf):
                best[nxt] = g
                parent[nxt] = cell
                tie += 1
                heapq.heappush(frontier, (g + heuristic(nxt, goal), tie, nxt))
    return SearchResult(name, [], float("inf"), len(order), order)


def uniform_cost_search(grid: GridMap, start: Cell | None = None, goal: Cell | None = None) -> SearchResult:
    """Dijkstra's algorithm: A* without a heuristic."""
    return a_star(grid, start, goal, zero, name="uniform cost")


def breadth_first_search(grid: GridMap, start: Cell | None = None, goal: Cell | None = None) -> SearchResult:
    """Fewest moves, ignoring terrain cost (so the path may be expensive)."""
    start = grid.start if start is None else start
    goal = grid.goal if goal is None else goal
    _check_endpoints(grid, start, goal)
    parent: dict[Cell, Cell | None] = {start: None}
    queue, order = deque([start]), []
    while queue:
        cell = queue.popleft()
        order.append(cell)
        if cell == goal:
            path = [cell]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])  # type: ignore[arg-type]
            path.reverse()
            return SearchResult("breadth-first", path, grid.path_cost(path), len(order), order)
        for nxt, _ in grid.neighbours(cell):
            if nxt not in parent:
                parent[nxt] = cell
                queue.append(nxt)
    return SearchResult("breadth-first", [], float("inf"), len(order), order)


class RouteAgent:
    """A goal-based agent: perceive its cell, (re)plan with A* to the goal, return the next move.

    It re-plans when it is not where its plan expected (a move failed) or when told that a
    cell is now blocked (:meth:`block`).
    """

    def __init__(self, grid: GridMap, goal: Cell | None = None, heuristic: Heuristic = manhattan) -> None:
        self.grid = grid
        self.goal = grid.goal if goal is None else goal
        self.heuristic = heuristic
        self.plan: list[Cell] = []
        self.plans_made = 0

    def block(self, cell: Cell) -> None:
        """Learn that ``cell`` is now a wall (a road closure); the next decision re-plans."""
        cost = self.grid.cost.copy()
        cost[cell] = np.inf
        self.grid = GridMap(cost, self.grid.start, self.grid.goal)
        self.plan = []

    def __call__(self, position: Cell) -> str:
        if position == self.goal:
            return "stop"
        if len(self.plan) < 2 or self.plan[0] != position or not all(self.grid.passable(c) for c in self.plan):
            result = a_star(self.grid, position, self.goal, self.heuristic)
            self.plans_made += 1
            if not result.found:
                raise InvalidRequestError(f"No route from {position} to {self.goal} on this map.")
            self.plan = result.path
        nxt = self.plan[1]
        self.plan = self.plan[1:]
        return {v: k for k, v in MOVES.items()}[(nxt[0] - position[0], nxt[1] - position[1])]
