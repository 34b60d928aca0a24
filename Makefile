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

run: $(STAMP)
	$(BIN)/goldenpath validate --platform platform
	$(BIN)/goldenpath render --platform platform --out out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 -q

clean:
	rm -rf $(VENV) out .goldenpath .pytest_cache .mypy_cache .ruff_cache
