# Every target sets up .venv by itself on a machine with only Python and pip.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: setup train test test-slow lint clean

setup: $(STAMP)

# torch==2.13.0 first when no torch is present: a bare `torch` requirement would
# otherwise pull the newest CUDA build (several GB).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

train: $(STAMP)
	$(PY) -m asyncrl $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check asyncrl tests benchmarks

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
