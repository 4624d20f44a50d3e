"""The four classical agent types of Lab 01, each in a small seeded world, and an SLM as a policy.

| module          | agent type                          | world                       |
|-----------------|-------------------------------------|-----------------------------|
| ``reflex``      | simple reflex (rules on the percept)| :class:`ThermostatWorld`    |
| ``model_based`` | keeps internal state (a map)        | :class:`VacuumWorld`        |
| ``goal_based``  | plans a route with A*               | :class:`GridMap`            |
| ``learning``    | improves with experience (bandits)  | :class:`BernoulliBandit`    |
| ``slm_policy``  | a language model picks the action   | any of them, as text        |

``plots`` builds the plotly figures; the agents themselves need only numpy.
"""

from edgeagents.agents.taxonomy.environments import (
    BernoulliBandit,
    GridMap,
    ThermostatWorld,
    VacuumPercept,
    VacuumWorld,
    random_map,
)
from edgeagents.agents.taxonomy.goal_based import (
    RouteAgent,
    SearchResult,
    a_star,
    breadth_first_search,
    manhattan,
    uniform_cost_search,
)
from edgeagents.agents.taxonomy.learning import (
    CLICK_RATES,
    UCB1,
    BanditRuns,
    EpsilonGreedy,
    RandomRecommender,
    run_bandit,
)
from edgeagents.agents.taxonomy.model_based import MappingVacuum, compare_vacuums, run_vacuum
from edgeagents.agents.taxonomy.reflex import ReflexThermostat, ReflexVacuum, band_score, run_thermostat
from edgeagents.agents.taxonomy.slm_policy import (
    Decision,
    GrammarPolicy,
    ScoredPolicy,
    action_grammar,
    band_expert,
    evaluate_policy,
    thermostat_prompt,
)

__all__ = [
    "CLICK_RATES",
    "UCB1",
    "BanditRuns",
    "BernoulliBandit",
    "Decision",
    "EpsilonGreedy",
    "GrammarPolicy",
    "GridMap",
    "MappingVacuum",
    "RandomRecommender",
    "ReflexThermostat",
    "ReflexVacuum",
    "RouteAgent",
    "ScoredPolicy",
    "SearchResult",
    "ThermostatWorld",
    "VacuumPercept",
    "VacuumWorld",
    "a_star",
    "action_grammar",
    "band_expert",
    "band_score",
    "breadth_first_search",
    "compare_vacuums",
    "evaluate_policy",
    "manhattan",
    "random_map",
    "run_bandit",
    "run_thermostat",
    "run_vacuum",
    "thermostat_prompt",
    "uniform_cost_search",
]
