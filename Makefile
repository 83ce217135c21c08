# Two commands for a new user: `make demo` and `make test`. Both create .venv if it is missing and
# install tollwatch with its dev extras; nothing else needs to be on the machine but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tollwatch-installed

.PHONY: install demo test clean dist dataflow-template dataflow-run dataflow-dry-run

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tollwatch demo --output demo-output

test: $(STAMP)
	$(BIN)/python -m pytest

# The wheel and sdist (dist/); workers install the wheel (deploy/README.md).
dist: $(STAMP)
	$(BIN)/python -m build --no-isolation --outdir dist .

# Dataflow (deploy/dataflow/dataflow.sh reads PROJECT, BUCKET, ... from the environment).
dataflow-template:
	deploy/dataflow/dataflow.sh image
	deploy/dataflow/dataflow.sh template

dataflow-run:
	deploy/dataflow/dataflow.sh run

dataflow-dry-run: $(STAMP)
	TOLLWATCH=$(BIN)/tollwatch deploy/dataflow/dataflow.sh dry-run

clean:
	rm -rf demo-output build dist *.egg-info .pytest_cache
