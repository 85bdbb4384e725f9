# callserver: `make run` sets everything up and runs the server on the PBX simulator;
# `make test` runs the test suite. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/callcentre.yaml

.PHONY: setup system run simulate test fuzz lint bench soak clean

setup: system $(STAMP)

system:
	@bash scripts/setup-system.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(BIN)/callserver check-config $(CONFIG)
	$(BIN)/callserver prompts build --config $(CONFIG)
	$(BIN)/callserver run --config $(CONFIG) --with-simulator

simulate: setup
	$(BIN)/callserver simulate --config $(CONFIG)

# the fuzzers in tests/fuzz run briefly and deterministically as part of the suite
# two workers share the machine's CPUs; the few tests that drive traffic at a set rate run after
# them, alone, since another test beside them would slow the server under test (README, Tests)
test: setup lint
	CALLSERVER_FUZZ=short $(BIN)/python -m pytest -q -n 2 -m "not alone"
	CALLSERVER_FUZZ=short $(BIN)/python -m pytest -q -m alone

# the long fuzz run: well over 100,000 random inputs, bounded to an hour; prints inputs per target
FUZZ_TIME ?= 3600
fuzz: setup
	CALLSERVER_FUZZ=long timeout $(FUZZ_TIME) $(BIN)/python -m pytest tests/fuzz -q -p no:cacheprovider

# the style checks run before the tests: nothing lands that they reject
lint: setup
	$(BIN)/ruff check callserver tests bench
	$(BIN)/ruff format --check callserver tests bench
	$(BIN)/mypy --strict callserver

bench: setup
	$(BIN)/python -m bench

# the soak: server and PBX simulator as two processes under steady traffic with AMI cuts, a kill -9 and
# a PBX crash; samples memory, files, tasks and loop lag; exit 1 if an invariant fails (docs/soak.md).
# Not part of `make test`. SOAK_MINUTES=10 SOAK_RATE=20 make soak; results under data/soak-<time>/
SOAK_MINUTES ?= 30
SOAK_RATE ?= 20
SOAK_OUT ?= data/soak-$(shell date -u +%Y%m%dT%H%M%S)
soak: setup
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE) --out $(SOAK_OUT)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
