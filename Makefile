# Every target sets up .venv by itself on a machine with only Python and pip.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: setup train test test-slow lint clean bench-cartpole-solve bench-cartpole-speed bench-throughput

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

# ---- benchmarks (numbers recorded in docs/results.md) ------------------------
BENCH ?= bench-out

# Steps and wall time to solve CartPole-v1, 10 seeds per algorithm, 2 workers.
bench-cartpole-solve: $(STAMP)
	for a in a3c nstep_q one_step_q one_step_sarsa; do \
	  t=475; case $$a in one_step_*) t=195;; esac; \
	  $(PY) -m asyncrl -m algo=$$a env.solved_return=$$t seed=10,11,12,13,14,15,16,17,18,19 \
	    eval.episodes=0 progress=off hydra.sweep.dir=$(BENCH)/cartpole-solve/$$a || exit 1; \
	done
	$(PY) benchmarks/compare.py $(BENCH)/cartpole-solve --by algo.name workers

# Steps/s per algorithm with 1 and 2 workers (fixed 100k-step budget, no early stop).
bench-cartpole-speed: $(STAMP)
	for a in a3c nstep_q one_step_q one_step_sarsa; do \
	  $(PY) -m asyncrl -m algo=$$a workers=1,2 runtime=processes,threads total_steps=100000 \
	    stop_when_solved=false eval.episodes=0 progress=off \
	    hydra.sweep.dir=$(BENCH)/cartpole-speed/$$a || exit 1; \
	done
	$(PY) benchmarks/compare.py $(BENCH)/cartpole-speed --by algo.name runtime.kind workers

# Agent steps/s against this machine's ceiling, Breakout, 1 and 2 workers, 3 runs each
# (docs/performance.md). About 4 minutes per line on 2 cores; run on an idle machine.
bench-throughput: $(STAMP)
	for spec in "a3c 1" "nstep_q 1" "one_step_q 1" "one_step_sarsa 1" "a3c 8" "nstep_q 8"; do \
	  set -- $$spec; \
	  $(PY) benchmarks/throughput.py --env breakout --algo $$1 --envs-per-worker $$2 --workers 1 2 \
	    --seconds 20 --warmup 8 --repeats 3 --json $(BENCH)/throughput/breakout_$$1_k$$2.json \
	    --out $(BENCH)/throughput/breakout_$$1_k$$2.md || exit 1; \
	done
