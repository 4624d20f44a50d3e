"""Lab 01's classical agents and the SLM-policy glue (pure logic: no model is loaded here)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeagents.agents.taxonomy import (
    CLICK_RATES,
    UCB1,
    EpsilonGreedy,
    GrammarPolicy,
    GridMap,
    MappingVacuum,
    RandomRecommender,
    ReflexThermostat,
    ReflexVacuum,
    RouteAgent,
    ScoredPolicy,
    ThermostatWorld,
    VacuumPercept,
    VacuumWorld,
    a_star,
    action_grammar,
    band_expert,
    band_score,
    breadth_first_search,
    compare_vacuums,
    evaluate_policy,
    random_map,
    run_bandit,
    thermostat_prompt,
    uniform_cost_search,
)
from edgeagents.agents.taxonomy.environments import BernoulliBandit
from edgeagents.errors import BackendError, EdgeAgentsError, InvalidRequestError, ToolCallError

# ----------------------------------------------------------------- reflex


def test_reflex_thermostat_rules():
    rule = ReflexThermostat(20.0, 22.0)
    assert rule(18.0) == "heat"
    assert rule(23.5) == "cool"
    assert rule(21.0) == "off"
    assert rule(20.0) == "off" and rule(22.0) == "off"  # the band edges are comfortable


def test_reflex_rule_with_crossed_thresholds_is_refused():
    with pytest.raises(InvalidRequestError):
        ReflexThermostat(heat_below=23, cool_above=21)


def test_a_tuned_reflex_rule_beats_the_naive_one_and_doing_nothing():
    naive = band_score(ReflexThermostat(20, 22), seeds=range(10))
    tuned = band_score(ReflexThermostat(20.6, 21.4), seeds=range(10))
    idle = band_score(lambda t: "off", seeds=range(10))
    assert tuned >= 0.9 > naive > idle


def test_thermostat_is_seeded():
    a, b = ThermostatWorld(seed=3), ThermostatWorld(seed=3)
    assert [a.step("heat") for _ in range(5)] == [b.step("heat") for _ in range(5)]


def test_unknown_action_is_a_typed_error():
    with pytest.raises(InvalidRequestError, match="heat, cool, off"):
        ThermostatWorld().step("blast")
    with pytest.raises(InvalidRequestError):
        VacuumWorld().step("fly")


def test_reflex_vacuum_sucks_when_dirty():
    agent = ReflexVacuum(seed=0)
    assert agent(VacuumPercept(dirty=True, bumped=False)) == "suck"
    assert agent(VacuumPercept(dirty=False, bumped=False)) in {"north", "south", "east", "west"}


# ----------------------------------------------------------------- model-based


def test_model_based_vacuum_beats_reflex_on_average():
    curves = compare_vacuums(
        {"reflex": lambda s: ReflexVacuum(s), "model-based": lambda s: MappingVacuum()}, seeds=range(30), steps=100
    )
    reflex, memory = curves["reflex"][:, -1], curves["model-based"][:, -1]
    assert memory.mean() > reflex.mean() + 0.2
    assert memory.mean() > 0.95


def test_model_based_vacuum_maps_walls_from_bumps():
    agent = MappingVacuum()
    move = agent(VacuumPercept(dirty=False, bumped=False))
    agent(VacuumPercept(dirty=False, bumped=True))  # that move hit a wall
    assert len(agent.walls) == 1 and agent.position == (0, 0)
    assert move in {"north", "south", "east", "west"}


def test_model_based_vacuum_stops_when_the_room_is_covered():
    world = VacuumWorld(rows=3, cols=3, obstacle_rate=0.0, seed=1)
    agent = MappingVacuum()
    percept = world.reset(1)
    for _ in range(200):
        action = agent(percept)
        percept = world.step(action)
        if world.done:
            break
    assert world.done and world.cleaned_share == 1.0
    assert len(agent.visited) == 9


# ----------------------------------------------------------------- goal-based

KNOWN_MAP = """
S..#....
.#.#.##.
.#...#..
.####.#.
......#G
"""


def test_a_star_finds_the_optimal_length_on_a_known_map():
    grid = GridMap.from_ascii(KNOWN_MAP)
    result = a_star(grid)
    assert result.path[0] == grid.start and result.path[-1] == grid.goal
    assert len(result.path) - 1 == 15 and result.cost == 15  # counted by hand: over the top, then down
    assert len(breadth_first_search(grid).path) == len(result.path)  # all road: fewest steps is cheapest
    assert grid.path_cost(result.path) == result.cost


def test_a_star_takes_the_cheap_detour_that_breadth_first_misses():
    grid = GridMap.from_ascii(["S~~G", "...."])  # straight through mud costs 8+8+1
    astar, bfs = a_star(grid), breadth_first_search(grid)
    assert astar.cost == 5 and len(astar.path) == 6
    assert bfs.cost == 17 and len(bfs.path) == 4


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_star_matches_uniform_cost_and_expands_no_more(seed):
    grid = random_map(seed=seed)
    a, u = a_star(grid), uniform_cost_search(grid)
    assert a.cost == u.cost
    assert a.expanded <= u.expanded


def test_unreachable_goal_is_reported_not_raised():
    result = a_star(GridMap.from_ascii(["S#G"]))
    assert not result.found and result.cost == float("inf")


def test_bad_maps_and_endpoints_are_typed_errors():
    with pytest.raises(InvalidRequestError):
        GridMap.from_ascii("S..X..G")
    with pytest.raises(InvalidRequestError):
        GridMap.from_ascii("....")
    with pytest.raises(InvalidRequestError):
        a_star(GridMap.from_ascii("S#G"), goal=(0, 1))


TWO_ROUTES = """
S.....
.####.
......
.####.
.....G
"""


def test_route_agent_reaches_the_goal_and_replans_around_a_closure():
    grid = GridMap.from_ascii(TWO_ROUTES)
    agent, pos = RouteAgent(grid), grid.start
    moves = {"north": (-1, 0), "south": (1, 0), "east": (0, 1), "west": (0, -1)}
    for step in range(40):
        if step == 3:
            agent.block(agent.plan[1])  # a road closes ahead
        action = agent(pos)
        if action == "stop":
            break
        pos = (pos[0] + moves[action][0], pos[1] + moves[action][1])
        assert grid.passable(pos)
    assert pos == grid.goal and agent.plans_made >= 2


# ----------------------------------------------------------------- learning


def test_epsilon_greedy_regret_falls_and_it_beats_random():
    learner = run_bandit(lambda n, s: EpsilonGreedy(n, 0.1, s), CLICK_RATES, rounds=400, seeds=range(20))
    random = run_bandit(lambda n, s: RandomRecommender(n, s), CLICK_RATES, rounds=400, seeds=range(20))
    assert learner.regret[:, -100:].mean() < learner.regret[:, :100].mean()
    assert learner.mean_reward > random.mean_reward + 0.05


def test_ucb_regret_falls():
    runs = run_bandit(lambda n, s: UCB1(n, 0.5, s), CLICK_RATES, rounds=400, seeds=range(10))
    assert runs.regret[:, -100:].mean() < 0.5 * runs.regret[:, :100].mean()
    assert runs.cumulative_regret.shape == (400,)


def test_bandit_bad_input_is_typed():
    with pytest.raises(InvalidRequestError):
        EpsilonGreedy(4, epsilon=1.5)
    with pytest.raises(InvalidRequestError):
        EpsilonGreedy(1)
    with pytest.raises(InvalidRequestError):
        BernoulliBandit([0.5, 1.2])
    with pytest.raises(InvalidRequestError):
        BernoulliBandit([0.1, 0.2]).pull(5)


# ----------------------------------------------------------------- SLM policy glue (scripted scorer)


class ScriptedScorer:
    """Scores options by a fixed table: a stand-in for a runtime in unit tests only."""

    def __init__(self, table, prior=None):
        self.table, self.prior, self.calls = table, prior or {}, []

    def score(self, prompt, continuations):
        self.calls.append((prompt, list(continuations)))
        if prompt.endswith("N/A C:"):
            return [self.prior.get(c.strip(), -1.0) for c in continuations]
        temperature = float(prompt.rsplit("\n", 1)[-1].split()[0])
        return [self.table(temperature, c.strip()) for c in continuations]


def test_scored_policy_takes_the_likeliest_action_and_sends_spaced_options():
    scorer = ScriptedScorer(lambda t, a: 0.0 if a == band_expert(t) else -3.0)
    policy = ScoredPolicy(scorer, ["heat", "cool", "off"], thermostat_prompt)
    decision = policy.decide(17.0)
    assert decision.action == "heat"
    assert scorer.calls[-1][1] == [" heat", " cool", " off"]
    assert abs(sum(decision.probabilities.values()) - 1) < 1e-9 and decision.confidence > 0.9
    report = evaluate_policy(policy, [16.0, 21.0, 25.0], band_expert)
    assert report.accuracy == 1.0


def test_calibration_removes_a_constant_bias():
    # the model "likes" heat by 5 nats whatever the input; the true signal is 1 nat
    table = lambda t, a: (5.0 if a == "heat" else 0.0) + (1.0 if a == band_expert(t) else 0.0)  # noqa: E731
    biased = ScriptedScorer(table)
    raw = ScoredPolicy(biased, ["heat", "cool", "off"], thermostat_prompt)
    calibrated = ScoredPolicy(
        ScriptedScorer(table, prior={"heat": 5.0, "cool": 0.0, "off": 0.0}),
        ["heat", "cool", "off"],
        thermostat_prompt,
        baseline_prompt=thermostat_prompt("N/A"),
    )
    states = [16.0, 21.0, 25.0]
    assert evaluate_policy(raw, states, band_expert).accuracy == pytest.approx(1 / 3)
    assert evaluate_policy(calibrated, states, band_expert).accuracy == 1.0


def test_empty_or_bad_action_sets_are_typed_errors():
    scorer = ScriptedScorer(lambda t, a: 0.0)
    for bad in ([], "heat", ["heat", "heat"], ["heat", ""], ["heat", 3]):
        with pytest.raises(InvalidRequestError):
            ScoredPolicy(scorer, bad, thermostat_prompt)
    with pytest.raises(InvalidRequestError):
        ScoredPolicy(object(), ["heat"], thermostat_prompt)
    with pytest.raises(InvalidRequestError):
        evaluate_policy(lambda s: "heat", [], band_expert)


def test_a_scorer_that_returns_the_wrong_number_of_scores_is_a_backend_error():
    class Broken:
        def score(self, prompt, continuations):
            return [0.0]

    with pytest.raises(BackendError):
        ScoredPolicy(Broken(), ["heat", "cool"], thermostat_prompt).decide(18.0)


def test_grammar_policy_sends_a_grammar_and_checks_the_answer():
    class Scripted:
        def __init__(self, text):
            self.text, self.options = text, None

        def complete(self, prompt, **options):
            self.options = options
            return type("R", (), {"text": self.text})()

    ok = Scripted(" cool")
    assert GrammarPolicy(ok, ["heat", "cool", "off"], thermostat_prompt)(24.0) == "cool"
    assert ok.options["grammar"] == action_grammar(["heat", "cool", "off"])
    assert action_grammar(["heat", "cool"]) == 'root ::= " heat" | " cool"'
    with pytest.raises(ToolCallError):
        GrammarPolicy(Scripted("warm it up"), ["heat", "cool", "off"], thermostat_prompt)(24.0)


def test_every_error_here_is_an_edgeagents_error():
    assert issubclass(InvalidRequestError, EdgeAgentsError)
    assert np.isfinite(band_score(ReflexThermostat(), seeds=[0], steps=4))


def test_thermostat_prompt_ends_where_the_action_goes():
    prompt = thermostat_prompt(18.44)
    assert prompt.endswith("\n18.4 C:")
    assert "17.5 C: heat" in prompt
    assert thermostat_prompt("N/A", examples=()) == "N/A C:"


def test_the_prior_is_scored_once_and_cached():
    scorer = ScriptedScorer(lambda t, a: 0.0, prior={"heat": 2.0})
    policy = ScoredPolicy(scorer, ["heat", "cool"], thermostat_prompt, baseline_prompt=thermostat_prompt("N/A"))
    policy(18.0)
    policy(25.0)
    assert policy.prior == {"heat": 2.0, "cool": -1.0}
    assert sum(prompt.endswith("N/A C:") for prompt, _ in scorer.calls) == 1
