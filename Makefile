# Two commands for a new machine:
#   make demo   set up .venv and train a network, with a progress bar and a final accuracy
#               (MNIST if found or downloadable, else the 8x8 digits bundled with scikit-learn)
#   make test   set up .venv and run the test suite (TORCH=1 adds the PyTorch cross-checks)
# and, for the documentation:
#   make docs        build the documentation site into site/ (strict: a broken link fails)
#   make notebooks   run the lecture notebooks in notebooks/ (make test runs them too)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= all,dev,docs,fuzz
STAMP  := $(VENV)/.installed-$(shell echo "$(EXTRAS)" | tr ',' '-')

.PHONY: demo test lint bench docs notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

# PyTorch is only a test oracle (gradients, speed comparison): never a dependency of mlpkit.
torch: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "torch==2.13.0"

demo: $(STAMP)
	$(BIN)/mlpkit train --dataset auto --epochs 5 --plots runs/demo --force

test: $(STAMP) $(if $(TORCH),torch)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples fuzz notebooks docs/hooks.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

notebooks: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_notebooks.py

bench: $(STAMP) torch
	$(BIN)/python benchmarks/compare.py

# mypy, configured in pyproject.toml ([tool.mypy]): 0 errors on src/ (.ci/run runs it)
.PHONY: typecheck
typecheck: $(STAMP)
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache runs site
