# Two commands for a new user: `make demo` and `make test`. Both create .venv if it is missing and
# install tollwatch with its dev extras; nothing else needs to be on the machine but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tollwatch-installed

BENCH_STAMP := $(VENV)/.tollwatch-bench-installed

.PHONY: install demo test runners bench bench-quick clean dist dataflow-template dataflow-run dataflow-dry-run dataflow-requirements

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tollwatch demo --output demo-output

# The suite on two pytest workers, a test file each at a time (the tests of a file share its
# fixtures' runs): most tests run on one core (a local run is Beam's in-process FnApiRunner), so a
# second worker uses the second core of a 2-core machine. On a machine already busy it gains
# nothing and costs the workers' start-up: `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2

test: $(STAMP)
	@if command -v go >/dev/null && command -v java >/dev/null; then $(MAKE) --no-print-directory runners; \
	else echo "make test: no go or java here: the Prism and Flink tests skip (install Go and Java 17, then make runners)"; fi
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

# Beam's own runners, where Beam looks for them (tests/e2e/test_runners.py): Prism built from the Go
# module as Beam builds it, and the Flink job server jar under the file name FlinkRunner caches it
# as. Quiet when both are there. A jar Maven Central does not serve is reported, not fatal: the
# Flink tests then skip, or fail under CI.
BEAM_VERSION := 2.77.0
FLINK_VERSION := 1.20
PRISM_BIN := $(HOME)/.apache_beam/cache/prism/bin
JAR_CACHE := $(HOME)/.apache_beam/cache/jars
FLINK_JAR := beam-runners-flink-$(FLINK_VERSION)-job-server-$(BEAM_VERSION).jar

# Prism is rebuilt when BEAM_VERSION changes: the stamp beside it names the version it was built at.
PRISM_STAMP := $(PRISM_BIN)/.prism-$(BEAM_VERSION)

runners: $(PRISM_STAMP) $(JAR_CACHE)/$(FLINK_JAR)

# Maven Central's "not found" is final: kept in FLINK_JAR.refused and said once per make, not asked
# again (delete the file to ask again).
$(JAR_CACHE)/$(FLINK_JAR):
	@mkdir -p $(JAR_CACHE)
	@if test -f $@.refused; then echo "make runners: no Flink job server: $$(cat $@.refused)"; \
	elif mvn -q -B dependency:copy -Dartifact=org.apache.beam:beam-runners-flink-$(FLINK_VERSION)-job-server:$(BEAM_VERSION) \
	    -DoutputDirectory=$(JAR_CACHE) >$@.log 2>&1; then rm -f $@.log; \
	else grep -m1 -o 'org.apache.beam:[^ ]* was not found in [^ ]*\|Could not find artifact [^ ]* in [^ ]*' $@.log > $@.refused \
	  || { echo "make runners: Maven failed, see $@.log"; exit 1; }; \
	  echo "make runners: no Flink job server: $$(cat $@.refused)"; fi

$(PRISM_STAMP):
	GOBIN=$(PRISM_BIN) go install github.com/apache/beam/sdks/v2/go/cmd/prism@v$(BEAM_VERSION)
	@rm -f $(PRISM_BIN)/.prism-* && touch $@

# The wheel and sdist (dist/); workers install the wheel (deploy/README.md).
dist: $(STAMP)
	$(BIN)/python -m build --no-isolation --outdir dist .

# Dataflow (deploy/dataflow/dataflow.sh reads PROJECT, BUCKET, ... from the environment).
dataflow-template:
	deploy/dataflow/dataflow.sh image
	deploy/dataflow/dataflow.sh template

dataflow-run:
	deploy/dataflow/dataflow.sh run

# Both jobs translated offline: the stream, and a batch replay of a gs:// archive (its output local:
# the batch graph depends on what the output holds, which a dry run must be able to list).
dataflow-dry-run: $(STAMP)
	TOLLWATCH=$(BIN)/tollwatch deploy/dataflow/dataflow.sh dry-run
	TOLLWATCH=$(BIN)/tollwatch deploy/dataflow/dataflow.sh dry-run \
	  --input 'gs://dry-run-bucket/archive/**' --output build/dry-run-output

# The image's pins (deploy/dataflow/requirements.txt): tollwatch and apache-beam[gcp] at the pinned
# Beam resolved together in a fresh venv, checked (pip check) and frozen. Run it after a dependency
# changes in pyproject.toml; a few minutes. Resolved within the pins of Beam's SDK image itself
# (sdks/python/container/py311/base_image_requirements.txt of the Beam Go module, the one Prism is
# built from), so the image's packages stay at the versions Beam released it with.
DATAFLOW_REQUIREMENTS := deploy/dataflow/requirements.txt
SDK_IMAGE_REQUIREMENTS = $(shell go env GOMODCACHE)/github.com/apache/beam/sdks/v2@v$(BEAM_VERSION)/python/container/py311/base_image_requirements.txt
dataflow-requirements:
	test -f $(SDK_IMAGE_REQUIREMENTS) || (cd /tmp && go mod download github.com/apache/beam/sdks/v2@v$(BEAM_VERSION))
	rm -rf build/pin-venv && $(PYTHON) -m venv build/pin-venv
	build/pin-venv/bin/pip install --quiet -c $(SDK_IMAGE_REQUIREMENTS) . 'apache-beam[gcp]==$(BEAM_VERSION)'
	build/pin-venv/bin/pip check
	{ sed -n '1,3p' $(DATAFLOW_REQUIREMENTS); build/pin-venv/bin/pip freeze --exclude tollwatch; } > $(DATAFLOW_REQUIREMENTS).new
	mv $(DATAFLOW_REQUIREMENTS).new $(DATAFLOW_REQUIREMENTS)
	rm -rf build/pin-venv

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
