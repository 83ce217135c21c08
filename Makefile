# Two commands for a new user: `make demo` and `make test`. Both create .venv if it is missing and
# install tollwatch with its dev extras; nothing else needs to be on the machine but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tollwatch-installed

BENCH_STAMP := $(VENV)/.tollwatch-bench-installed

.PHONY: install demo test bench bench-quick clean dist dataflow-template dataflow-run dataflow-dry-run

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

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# The benchmark suite: writes BENCHMARKS.md and BENCHMARKS.json (at most 20 minutes of measurements on
# 1k, 10k, 100k documents; corpora generated once in .bench/, not counted: ~3 minutes, ~7 GB).
# `make bench ARGS=--quick` or `make bench-quick`: a 2-minute check of the same measurements.
bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench.py --quick $(ARGS)

clean:
	rm -rf demo-output build dist *.egg-info .pytest_cache .bench
