"""Specialising the course model: data, LoRA training, evaluation and export (lab 07).

``python -m edgeagents.finetune`` (or ``make adapter``) regenerates the data, retrains,
exports the GGUF adapter, evaluates base and tuned on the held-out set and writes the training
card. Training needs the ``finetune`` extra; data, evaluation and export do not need torch.
"""

from edgeagents.finetune.data import Example, encode_example, generate
from edgeagents.finetune.evaluate import TARGETS, EvalReport, evaluate, load_heldout
from edgeagents.finetune.unseen import UnseenReport, evaluate_unseen, load_unseen

__all__ = ["TARGETS", "EvalReport", "Example", "UnseenReport", "encode_example", "evaluate", "evaluate_unseen",
           "generate", "load_heldout", "load_unseen"]
