# The two Quickstart commands (`make run`, `make test`) need only Python 3.11+, pip, git and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: test lint run run-postgres bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cli,bench]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

run: $(STAMP)
	$(VENV)/bin/tradestore run --data-dir ./data --duration 20
	$(VENV)/bin/tradestore status --data-dir ./data

# The demo on PostgreSQL: the server named by TRADESTORE_PG_DSN, else a throwaway local one.
run-postgres: $(STAMP)
	$(PY) -m tradestore.postgres -- sh -c '$(VENV)/bin/tradestore run --dsn "$$TRADESTORE_PG_DSN" --duration 20 && $(VENV)/bin/tradestore status --dsn "$$TRADESTORE_PG_DSN"'

# As root, also W2, W6 and W1 on loop-mounted ext4 (with a journal), xfs and btrfs.
bench: $(STAMP)
	$(PY) -m benchmarks
	if [ "$$(id -u)" = 0 ]; then $(PY) -m benchmarks.filesystems; fi

bench-quick: $(STAMP)
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
