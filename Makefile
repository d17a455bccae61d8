# One entry point for a fresh machine that has Python 3.11 and Node.js:
#   make demo   the whole story against a local AWS endpoint (no account needed)
#   make test   lint, CDK assertions, evaluator, endpoint fidelity, demo and format tests
# Both create the virtual environment and install the pinned pip and npm packages first
# (`make demo` only the runtime set, `make test` the test tools too).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q -c constraints.txt
# The project's own Node.js 22 (npm package `node`) and CDK CLI come first on PATH.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup runtime test lint demo demo-partner demo-accounts endpoint synth bench snapshots clean

setup: runtime $(VENV)/.dev-installed

runtime: $(VENV)/.runtime-installed node_modules/.installed

$(VENV)/.runtime-installed: requirements.txt constraints.txt pyproject.toml
	@echo "==> Python: creating $(VENV) and installing the pinned runtime packages"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==25.3
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	@echo "==> Python: installing the pinned test, lint and benchmark tools"
	$(PIP) -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> Node.js: installing the pinned CDK CLI and Node.js 22 (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Two workers (pytest-xdist): the machines here have two cores. Each worker starts its own
# endpoint and synthesis; plain `pytest` runs the same tests one by one.
test: lint
	$(PY) -m pytest -n 2

demo: runtime
	$(PY) -m local_endpoint demo

# A partner with no AWS credentials sends to our receiver and receives from our sender.
demo-partner: runtime
	$(PY) -m local_endpoint demo-partner

# Parties in their own accounts (issue 13): a key-owner, a sender and two receiver accounts.
demo-accounts: runtime
	$(PY) -m local_endpoint demo-accounts

endpoint: runtime
	$(PY) -m local_endpoint serve

synth: runtime
	npx cdk synth

# All three run (and print their verdicts) even if one misses a target; then the exit status.
bench: setup
	@status=0; \
	$(PY) -m bench || status=1; \
	$(PY) -m bench.latency || status=1; \
	$(PY) -m bench.endpoint_start || status=1; \
	exit $$status

# Rewrite the reviewed template snapshots after an intended stack change; review the diff.
snapshots: setup
	UPDATE_STACK_SNAPSHOTS=1 $(PY) -m pytest -q tests/stacks/test_stack_snapshot.py

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .ruff_cache .hypothesis .local
