# Registre task runner. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help run test lint stop clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: $(STAMP) ## Start everything locally: database, Redis, web, worker, beat and demo data
	$(BIN)/python -m config.localstack run

test: $(STAMP) ## Run the tests on real PostgreSQL + pgvector, Redis and a Celery worker
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## Check style (ruff), formatting (ruff format) and the apps' layers (import-linter)
	$(BIN)/ruff check config apps tests bench
	$(BIN)/ruff format --check config apps tests bench
	$(BIN)/lint-imports

stop: $(STAMP) ## Stop the embedded PostgreSQL and Redis left running
	$(BIN)/python -m config.localstack stop

clean: stop ## Delete local data (database, uploads) and the virtualenv
	rm -rf var $(VENV)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Registre needs Python >= 3.11 (set PYTHON=python3.x)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)
