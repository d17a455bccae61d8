# One entry point for a fresh machine that has Python 3.11 and Node.js:
#   make demo   the whole story against a local AWS endpoint (no account needed)
#   make test   lint, CDK assertions, evaluator, endpoint fidelity, demo and format tests
# Both create the virtual environment and install the pinned pip and npm packages first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The project's own Node.js 22 (npm package `node`) and CDK CLI come first on PATH.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup test lint demo endpoint synth bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@echo "==> Python: creating $(VENV) and installing pinned packages"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==25.3
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> Node.js: installing the pinned CDK CLI and Node.js 22 (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint
	$(PY) -m pytest

demo: setup
	$(PY) -m local_endpoint demo

endpoint: setup
	$(PY) -m local_endpoint serve

synth: setup
	npx cdk synth

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .ruff_cache .hypothesis .local
