# One entry point for people and CI. See ../shared/contracts.md.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint format train bench clean

install: $(STAMP)

# Re-install only when the dependency files change; `make install` stays idempotent.
$(STAMP): pyproject.toml requirements.lock scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/consult-bot serve

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

train: install
	$(BIN)/python -m nlp.train nlp/configs/textcat.cfg

bench: install
	$(BIN)/python benchmarks/nlp.py
	$(BIN)/python benchmarks/webhook.py

clean:
	rm -rf $(VENV) .pytest_cache
