"""The course model and the model catalog."""

from edgeagents.models.course import (
    ModelSpec,
    base_model_path,
    course_adapter_path,
    course_model,
    models_dir,
    prepare_base_model,
    resolve_model,
    verify_base_model,
)

__all__ = [
    "ModelSpec",
    "base_model_path",
    "course_adapter_path",
    "course_model",
    "models_dir",
    "prepare_base_model",
    "resolve_model",
    "verify_base_model",
]
