# One-command set-up: every target creates .venv if missing and installs torch==2.13.0 first
# (a CPU wheel on these machines; an unpinned torch would pull gigabytes of CUDA packages).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MUJOCO_GL ?= egl
export OMP_NUM_THREADS ?= 2

.PHONY: install demo test test-slow bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[dev,dreamerv3]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/metaworld-hwm demo --out demo_output

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -m "not slow and not gpu" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m "slow" -q

bench: $(STAMP)
	$(BIN)/python bench/env_throughput.py
	$(BIN)/python bench/agent_speed.py
	$(BIN)/python bench/planner_accuracy.py
	$(BIN)/python bench/experts.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) demo_output .pytest_cache .ruff_cache
