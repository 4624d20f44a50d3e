"""Edge Agents Lab: the helper library behind the course notebooks.

>>> import edgeagents
>>> rt = edgeagents.open_runtime()     # the course model, in-process with llama.cpp
>>> rt.complete("The capital of France is", max_tokens=5).text
"""

from edgeagents.errors import (
    BackendError,
    ContextOverflowError,
    CorruptModelError,
    EdgeAgentsError,
    InvalidRequestError,
    ModelNotFoundError,
    RuntimeClosedError,
    RuntimeUnavailableError,
    StreamInterruptedError,
    ToolCallError,
    UnsupportedFeatureError,
)
from edgeagents.models.course import course_model, prepare_base_model
from edgeagents.runtimes import open_runtime
from edgeagents.settings import load_settings

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "ContextOverflowError",
    "CorruptModelError",
    "EdgeAgentsError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "RuntimeClosedError",
    "RuntimeUnavailableError",
    "StreamInterruptedError",
    "ToolCallError",
    "UnsupportedFeatureError",
    "course_model",
    "load_settings",
    "open_runtime",
    "prepare_base_model",
]
