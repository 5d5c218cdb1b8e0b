# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test env test-deps lint typecheck bench clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

env: $(STAMP)

test-deps:
	scripts/install-test-deps.sh

lint: env
	$(BIN)/ruff check .

typecheck: env
	$(BIN)/mypy

test: test-deps env lint typecheck
	$(BIN)/python -m tests.deploy.rootfs
	scripts/in-netns.sh $(BIN)/pytest $(PYTEST_ARGS)

demo: env
	$(BIN)/roomctl demo

bench: env
	scripts/in-netns.sh $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
