"""Labs 00 and 01 run through JupyterLab's own UI in a real browser (Debian's chromium, driven by Playwright).

JupyterLab starts on 127.0.0.1 with a token, on a port this test holds busy (so it must step to the next
one, as `make lab` relies on), with autosave off, over a copy of labs/. Each lab is run with Run > Run All
Cells; then no cell may hold an error, the plotly figures, the plotly animation's controls and the quiz
widgets must be drawn, and the notebooks on disk (the repo's and the copy) must be byte for byte unchanged.

Nothing is installed here: without the playwright package or a chromium the test skips, saying so
(`make browser` installs Debian's chromium as root; the playwright package is in the `test` extra).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgeagents.quiz import Quiz

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(3600)]

REPO = Path(__file__).resolve().parents[1]
LABS = ("00_start_here.ipynb", "01_agents.ipynb")
# Safety nets only, far above the measured run times (lab 00: ~10 s, lab 01: ~1 min on one thread).
START_S = 300
RUN_MS = 1_800_000
RENDER_MS = 120_000

# Lab settings for this server only: no autosave (a run must not write outputs into the notebook),
# every cell in the page (JupyterLab otherwise renders only the cells in view), no news fetched.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}

NOTEBOOK_JS = "() => window.jupyterapp.shell.currentWidget.context.model.toJSON()"
# Done when no prompt shows [*] and every non-empty code cell has run, or one failed (Run All stops there).
DONE_JS = """() => {
  const widget = window.jupyterapp.shell.currentWidget;
  if (!widget || !widget.context) return false;
  if ([...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(e => e.textContent.includes('*')))
    return false;
  const cells = widget.context.model.toJSON().cells.filter(
    c => c.cell_type === 'code' && [].concat(c.source).join('').trim() !== '');
  return cells.some(c => c.outputs.some(o => o.output_type === 'error'))
      || cells.every(c => c.execution_count !== null);
}"""
KERNEL_IDLE_JS = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return !!(widget && widget.sessionContext && widget.sessionContext.kernelDisplayStatus === 'idle');
}"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed: pip install -e '.[lab]'")
    root = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(REPO / "labs", root / "labs")
    settings = root / "settings"
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    # a busy port: JupyterLab must take the next free one by itself (port_retries), as `make lab` relies on
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    held = busy.getsockname()[1]
    token = secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={held}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root / 'workspaces'}",
           "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "EDGEAGENTS_THREADS": "1", "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_DATA_DIR": str(root / "data"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "IPYTHONDIR": str(root / "ipython")}
    log_path = root / "jupyterlab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_S
        port = None
        while port is None:
            found = re.search(r"http://127\.0\.0\.1:(\d+)/lab", log_path.read_text())
            if found:
                port = int(found.group(1))
            elif proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
            else:
                time.sleep(0.5)
        assert port != held, "JupyterLab cannot have bound the port this test holds"
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "root": root, "held": held, "log": log_path}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        busy.close()


def _outputs(nb: dict, mime: str) -> list[dict]:
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []) if mime in o.get("data", {})]


@pytest.mark.parametrize("name", LABS)
def test_lab_runs_all_cells_in_jupyterlab(browser, lab_server, name):
    original, copy = REPO / "labs" / name, lab_server["root"] / "labs" / name
    before = {original: _sha(original), copy: _sha(copy)}
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(RENDER_MS)
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    try:
        page.goto(f"{lab_server['url']}/lab/tree/labs/{name}?token={lab_server['token']}")
        page.wait_for_function(KERNEL_IDLE_JS, polling=500)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()  # Run All Cells
        page.wait_for_function(DONE_JS, polling=1000, timeout=RUN_MS)
        nb = page.evaluate(NOTEBOOK_JS)

        code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        errors = [f"{''.join(c['source'])[:80]!r}: {o['ename']}: {o['evalue']}"
                  for c in code for o in c["outputs"] if o["output_type"] == "error"]
        assert not errors, f"{name}: cells failed in JupyterLab:\n" + "\n".join(errors)
        assert all(c["execution_count"] is not None for c in code), f"{name}: not every cell ran"

        # every plotly figure is drawn; an animated one also gets its play buttons and slider
        figures = _outputs(nb, "application/vnd.plotly.v1+json")
        animated = [f for f in figures if f["data"]["application/vnd.plotly.v1+json"].get("frames")]
        assert figures, f"{name}: the lab shows plotly figures"
        page.wait_for_function(f"() => document.querySelectorAll('.jp-OutputArea .js-plotly-plot').length >= {len(figures)}",
                               polling=500)
        controls = page.locator(".jp-OutputArea .js-plotly-plot:has(.slider-container):has(.updatemenu-button)")
        assert controls.count() == len(animated), f"{name}: {len(animated)} animations, {controls.count()} drawn"

        # the quiz is an ipywidgets form drawn from the kernel's widget models, one radio group per question,
        # and it answers a click (the kernel's callback fills in the verdict)
        quiz_cells = [c for c in code if "Quiz.load(" in "".join(c["source"])]
        assert len(quiz_cells) == 1, f"{name}: one quiz cell"
        questions = len(Quiz.load(name[:2]).questions)
        assert _outputs({"cells": quiz_cells}, "application/vnd.jupyter.widget-view+json"), f"{name}: the quiz is a widget"
        quiz = page.locator(".jp-OutputArea .widget-vbox").filter(has=page.locator("h4", has_text="quiz")).last
        radios = quiz.locator(".widget-radio-box")
        radios.first.wait_for()
        assert radios.count() == questions, f"{name}: {questions} questions, {radios.count()} drawn"
        assert page.locator(".jp-OutputArea").get_by_text("Error displaying widget").count() == 0
        radios.first.locator("input[type=radio]").first.check()
        quiz.get_by_text(re.compile("^[✅❌]")).first.wait_for()
        assert not console_errors, f"{name}: the page raised: {console_errors}"
    finally:
        page.close()
    assert {p: _sha(p) for p in before} == before, f"{name}: running it in JupyterLab changed the notebook on disk"
