"""Learning agents: performance improves with experience.

A recommender must choose which item to show; it learns each item's click rate only by
showing it. That is the multi-armed bandit: *explore* (try items to learn about them) versus
*exploit* (show the best one so far). Two classic learners:

- :class:`EpsilonGreedy`: with probability ``epsilon`` show a random item, otherwise the best
  estimate so far.
- :class:`UCB1`: show the item with the highest optimistic bound (estimate + a bonus that
  shrinks as the item is shown more): exploration without a dial.

Regret is the clicks lost against always showing the best item; a learner's regret per round
falls as it learns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edgeagents.agents.taxonomy.environments import BernoulliBandit
from edgeagents.errors import InvalidRequestError


class BanditAgent(Protocol):
    def choose(self) -> int: ...

    def learn(self, arm: int, reward: float) -> None: ...


class _Estimates:
    """Running mean reward per arm (the learning part every bandit agent shares)."""

    def __init__(self, n_arms: int) -> None:
        if isinstance(n_arms, bool) or not isinstance(n_arms, (int, np.integer)) or n_arms < 2:
            raise InvalidRequestError(f"A bandit agent needs at least 2 arms, got {n_arms!r}.")
        self.counts = np.zeros(n_arms)
        self.values = np.zeros(n_arms)

    def learn(self, arm: int, reward: float) -> None:
        self.counts[arm] += 1
        self.values[arm] += (reward - self.values[arm]) / self.counts[arm]


class RandomRecommender(_Estimates):
    """The no-learning baseline: a uniformly random item every time."""

    def __init__(self, n_arms: int, seed: int = 0) -> None:
        super().__init__(n_arms)
        self._rng = np.random.default_rng(seed)

    def choose(self) -> int:
        return int(self._rng.integers(len(self.values)))


class EpsilonGreedy(_Estimates):
    """Explore with probability ``epsilon``, else exploit the best estimate (ties broken at random)."""

    def __init__(self, n_arms: int, epsilon: float = 0.1, seed: int = 0) -> None:
        super().__init__(n_arms)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0.0 <= epsilon <= 1.0:
            raise InvalidRequestError(f"epsilon is a probability between 0 and 1, not {epsilon!r}.")
        self.epsilon = float(epsilon)
        self._rng = np.random.default_rng(seed)

    def choose(self) -> int:
        if self._rng.random() < self.epsilon:
            return int(self._rng.integers(len(self.values)))
        best = np.flatnonzero(self.values == self.values.max())
        return int(self._rng.choice(best))


class UCB1(_Estimates):
    """Upper confidence bound: estimate + c * sqrt(ln t / n); every arm is tried once first."""

    def __init__(self, n_arms: int, c: float = 1.0, seed: int = 0) -> None:  # noqa: ARG002 - deterministic
        super().__init__(n_arms)
        if c < 0:
            raise InvalidRequestError(f"The exploration constant c must be >= 0, not {c}.")
        self.c = float(c)

    def choose(self) -> int:
        untried = np.flatnonzero(self.counts == 0)
        if len(untried):
            return int(untried[0])
        t = self.counts.sum()
        bound = self.values + self.c * np.sqrt(np.log(t) / self.counts)
        return int(np.argmax(bound))


@dataclass(frozen=True)
class BanditRuns:
    """Rewards and regret of one learner over many seeded runs (arrays: seeds x rounds)."""

    name: str
    rewards: np.ndarray
    regret: np.ndarray
    best_share: np.ndarray

    @property
    def mean_reward(self) -> float:
        return float(self.rewards.mean())

    @property
    def cumulative_regret(self) -> np.ndarray:
        """Mean cumulative regret per round, averaged over seeds."""
        return self.regret.cumsum(axis=1).mean(axis=0)

    def learning_curve(self, window: int = 50) -> np.ndarray:
        """Mean reward per round averaged over seeds, smoothed by a moving average of ``window`` rounds."""
        mean = self.rewards.mean(axis=0)
        window = max(1, min(window, len(mean)))
        return np.convolve(mean, np.ones(window) / window, mode="valid")


def run_bandit(
    make_agent: Callable[[int, int], BanditAgent],
    rates: Sequence[float],
    *,
    rounds: int = 1000,
    seeds: range | list[int] = range(50),
    name: str = "",
) -> BanditRuns:
    """Run ``make_agent(n_arms, seed)`` for ``rounds`` on a fresh bandit per seed.

    Regret uses the *expected* reward (best rate - chosen rate), so it does not depend on luck.
    """
    if rounds <= 0:
        raise InvalidRequestError(f"rounds must be at least 1, not {rounds}.")
    rates = np.asarray(rates, dtype=float)
    rewards, regret, best = [], [], []
    best_arm = int(np.argmax(rates))
    for seed in seeds:
        world = BernoulliBandit(rates, seed=seed)
        agent = make_agent(world.n_arms, seed)
        r, g, b = np.empty(rounds), np.empty(rounds), np.empty(rounds)
        for t in range(rounds):
            arm = agent.choose()
            reward = world.pull(arm)
            agent.learn(arm, reward)
            r[t], g[t], b[t] = reward, world.best_rate - rates[arm], arm == best_arm
        rewards.append(r)
        regret.append(g)
        best.append(b)
    if not rewards:
        raise InvalidRequestError("seeds is empty: give at least one seed.")
    return BanditRuns(name, np.stack(rewards), np.stack(regret), np.stack(best))


CLICK_RATES: tuple[float, ...] = (0.10, 0.25, 0.15, 0.45, 0.30, 0.05, 0.20, 0.35)
"""Hidden click rates of the lab's eight news topics (item 3 is the best)."""
