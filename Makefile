# Two entry points for a fresh machine: `make run` and `make test`.
# Both create .venv on first use and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,pulumi]'
	touch $(STAMP)

# The main job on embedded defaults: the example platform, applied to a local bare
# repository at .goldenpath/gitops.git (created on first use). A second run is a no-op.
run: $(STAMP)
	$(BIN)/goldenpath validate --platform platform
	$(BIN)/goldenpath apply --platform platform

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 -q

clean:
	rm -rf $(VENV) out .goldenpath .pytest_cache .mypy_cache .ruff_cache
