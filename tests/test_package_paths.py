"""Every file the library finds next to its own modules is where the module looks: a module moved to another
folder keeps its data (templates, shims, evaluation text) and its way back to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeagents import binder, labtable, quality, quiz
from edgeagents.models import course
from edgeagents.routing import costs, requestset, slm_tasks
from edgeagents.runtimes.ollama import install, manager
from edgeagents.runtimes.vllm import runtime as vllm_runtime
from edgeagents.runtimes.vllm import templates

FILES = {
    "quality.EVAL_TEXT": quality.EVAL_TEXT,
    "runtimes.ollama.install.SHIM_SOURCE": install.SHIM_SOURCE,
    "runtimes.ollama.manager.TEMPLATE_PATH": manager.TEMPLATE_PATH,
    "runtimes.vllm.runtime.CHAT_TEMPLATE": vllm_runtime.CHAT_TEMPLATE,
    "runtimes.vllm.templates.VALIDATOR": templates.VALIDATOR,
    "routing.requestset.DATA_FILE": requestset.DATA_FILE,
    "routing.slm_tasks.TASKS_FILE": slm_tasks.TASKS_FILE,
}
FOLDERS = {"models.course.ADAPTER_DIR": course.ADAPTER_DIR, "quiz.QUIZ_DIR": quiz.QUIZ_DIR,
           "routing.costs.DATA_DIR": costs.DATA_DIR}
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(FILES))
def test_module_data_file_exists(name):
    assert FILES[name].is_file(), f"{name} = {FILES[name]} is missing"


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_module_data_folder_exists(name):
    assert FOLDERS[name].is_dir(), f"{name} = {FOLDERS[name]} is missing"


def test_every_way_back_to_the_repository_finds_it():
    for name, root in {"binder.REPO": binder.REPO, "labtable.REPO": labtable.REPO,
                       "runtimes.vllm.runtime.repo_root()": vllm_runtime.repo_root()}.items():
        assert root.resolve() == REPO, f"{name} is {root}, not the repository {REPO}"
