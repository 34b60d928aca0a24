# Two entry points for a fresh machine: `make run` and `make test`.
# Both create .venv on first use: `run` installs goldenpath with what running needs,
# `test` adds the dev tools and the Pulumi extra its tests use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench clean

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[dev,pulumi]'
	touch $@

# The main job on embedded defaults: the example platform, applied to a local bare
# repository at .goldenpath/gitops.git (created on first use; a second apply is a no-op),
# then the self-service API on 127.0.0.1:8080 (SQLite under .goldenpath/; Ctrl-C stops it).
run: $(RUN_STAMP)
	$(BIN)/goldenpath validate --platform platform
	$(BIN)/goldenpath apply --platform platform
	$(BIN)/goldenpath serve --platform platform

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 -q

# Every benchmark of benchmarks/, one after the other, into docs/benchmarks.md (about half
# an hour on 2 cores: two of them build and apply a 1,000-team platform).
bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/report.py

# Build output and caches only. Never the embedded repositories under .goldenpath
# (gitops.git, the control repository's history; repos/, the only copy of every service
# new-service scaffolded there): delete those by hand if you mean to.
clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .goldenpath/cache
