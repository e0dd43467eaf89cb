# Two commands for a fresh Debian/Ubuntu machine:
#   make run    - the whole stack in the foreground (Ctrl-C stops it)
#   make test   - the whole test suite against real PostgreSQL and Redis
# `make start` / `make stop` run the same stack in the background (state in .run/).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN    ?= .run

.PHONY: help venv services run start stop status shell test test-unit lint format bench clean \
	contract-refresh

help:
	@echo "make run | start | stop | status | shell | test | lint | format | bench | clean | contract-refresh"

$(BIN)/pulpcore-manager: pyproject.toml
	@scripts/ensure-python.sh "$(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

venv: $(BIN)/pulpcore-manager

services:
	@scripts/ensure-services.sh

run: venv services
	@$(BIN)/python scripts/stack.py run --run-dir $(RUN)

start: venv services
	@$(BIN)/python scripts/stack.py start --run-dir $(RUN)

stop:
	@$(BIN)/python scripts/stack.py stop --run-dir $(RUN) 2>/dev/null || $(PYTHON) scripts/stack.py stop --run-dir $(RUN)

status:
	@$(BIN)/python scripts/stack.py status --run-dir $(RUN)

# A shell whose pulpcore-manager, pulp, ... use the local stack's settings (.run/settings.yaml);
# `make shell CMD="pulpcore-manager reset-admin-password"` runs one command instead.
# Sourcing .run/env (written by `make start`) does the same in the current shell.
shell: venv
	@$(BIN)/python scripts/stack.py shell --run-dir $(RUN) -- $(CMD)

test: venv services
	@scripts/ensure-services.sh --test-tools
	@scripts/run-tests.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The Pulp 3.49 contract the tests compare against is kept in tests/contract/; this copies a newer
# export of it (CONTRACT_SOURCE, default ../shared/api-contract) over the kept one.
CONTRACT_SOURCE ?= ../shared/api-contract
contract-refresh:
	@test -f "$(CONTRACT_SOURCE)/pulp-api-3.49.json" || \
		{ echo "contract-refresh: no $(CONTRACT_SOURCE)/pulp-api-3.49.json" >&2; exit 1; }
	cp "$(CONTRACT_SOURCE)/pulp-api-3.49.json" "$(CONTRACT_SOURCE)/OPERATIONS.md" tests/contract/
	chmod u+w tests/contract/pulp-api-3.49.json tests/contract/OPERATIONS.md

# make bench [BENCHES=tests/bench/bench_api.py] [PULP_BENCH_COMPARE=REF PULP_BENCH_REF_REDIS_DB=N]:
# every bench runs through tests/bench/harness.py against make-start stacks of its own.
BENCHES ?= $(wildcard tests/bench/bench_*.py)
bench: venv services
	@scripts/ensure-services.sh --test-tools
	@for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(RUN) build dist *.egg-info
