"""Hybrid routing: complexity classifiers, a switching policy, the router, cost accounting, request sets.

>>> from edgeagents.routing import RuleClassifier, HybridRouter
>>> RuleClassifier().classify("Look up the status of order A1043.").label
'local'
"""

from edgeagents.routing.classifiers import (
    EmbeddingClassifier,
    RuleClassifier,
    SLMClassifier,
    Verdict,
    check_request,
)
from edgeagents.routing.costs import (
    CloudPrice,
    LocalAssumptions,
    compare_costs,
    load_cloud_prices,
    local_cost_per_1k,
    share_handled_locally,
)
from edgeagents.routing.evaluate import CostModel, evaluate, routing_metrics, time_local_request
from edgeagents.routing.policy import Conditions, SwitchingPolicy
from edgeagents.routing.requestset import load_requests
from edgeagents.routing.router import HybridRouter, RoutedReply, remote_from_env

__all__ = [
    "CloudPrice", "Conditions", "CostModel", "EmbeddingClassifier", "HybridRouter", "LocalAssumptions", "RoutedReply",
    "RuleClassifier", "SLMClassifier", "SwitchingPolicy", "Verdict", "check_request", "compare_costs", "evaluate",
    "load_cloud_prices", "load_requests", "local_cost_per_1k", "remote_from_env", "routing_metrics", "share_handled_locally",
    "time_local_request",
]
