# The README's commands. Each target creates the virtualenv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml sandbox/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: test demo lint format bench bench-history faults clean chromium

$(STAMP): pyproject.toml sandbox/pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || { echo "could not create a virtualenv: install python3.11-venv (apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' -e ./sandbox
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# The browser test drives Debian's Chromium (never a downloaded browser).
chromium:
	@test -x /usr/bin/chromium || command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || sudo -n apt-get install -y -q chromium >/dev/null 2>&1) || \
	  echo "could not install chromium: run 'apt-get install chromium' (the browser test will fail without it)"; }

# tests/acceptance (the contract) runs `triage-bot serve` per test; those processes mostly wait
# on timers, so three xdist workers share two cores well (one worker takes every emulator case).
test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest --ignore=tests/acceptance
	$(BIN)/pytest -n 3 --dist loadgroup tests/acceptance

demo: $(STAMP)
	$(BIN)/triage-bot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy bot handlers

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks print figures and ratios; they read ../shared/corpus where present.
bench: $(STAMP)
	$(BIN)/python bench/fingerprint.py
	$(BIN)/python bench/loghub_eval.py
	$(BIN)/python bench/real_grouping.py
	$(BIN)/python -m bench.storm
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/http_ack.py

bench-history: $(STAMP)
	$(BIN)/python bench/history.py

faults: $(STAMP)
	$(BIN)/python bench/faults.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
