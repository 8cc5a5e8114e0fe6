# The two quick-start commands: `make up` (run the cluster) and `make test` (every check).
# Both create .venv and install what they need on a fresh Debian/Ubuntu machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= .kubesim
STAMP := $(VENV)/.installed

.PHONY: up test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	bash deploy/install-deps.sh --python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/python -m apiserver --data-dir $(DATA_DIR)

test: $(STAMP)
	bash deploy/install-deps.sh --test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy kube apiserver scheduler controller kubelet pyctl
	$(BIN)/pytest

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DATA_DIR)
