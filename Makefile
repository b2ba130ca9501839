# Every target sets up .venv by itself on a machine with only Python and pip.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: setup train test test-slow lint clean docs-config bench-cartpole-solve bench-cartpole-speed \
	bench-cartpole-grid bench-cartpole-robustness bench-cartpole-scaling bench-cartpole bench-throughput \
	bench-pong-a3c bench-pong-algos bench-cartpole-lstm bench-breakout-a3c bench-breakout-scaling bench-ray \
	bench-atari-hour bench-pong-probe bench-pong-health atari-hour-figures bench-small-tasks bench-learning-claims \
	bench-cartpole-lr-search

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

# docs/configuration.md from the schemas (asyncrl/config.py) and conf/; a test checks it is current.
docs-config: $(STAMP)
	$(PY) -m asyncrl.config_doc

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache

# ---- benchmarks (numbers recorded in docs/results.md) ------------------------
# A directory holds one run: a target run again refuses the directories its last run filled. Remove them
# first (rm -r bench-out/cartpole-solve), or give another BENCH=.
BENCH ?= bench-out

# Steps and wall time to solve CartPole-v1, 10 seeds per algorithm, 2 workers.
bench-cartpole-solve: $(STAMP)
	for a in a3c nstep_q one_step_q one_step_sarsa; do \
	  t=475; case $$a in one_step_*) t=195;; esac; \
	  $(PY) -m asyncrl -m algo=$$a env.solved_return=$$t seed=10,11,12,13,14,15,16,17,18,19 \
	    eval.episodes=0 progress=off hydra.sweep.dir=$(BENCH)/cartpole-solve/$$a || exit 1; \
	done
	$(PY) -m asyncrl.analysis.compare $(BENCH)/cartpole-solve --by algo.name workers

# Steps/s per algorithm with 1 and 2 workers (fixed 100k-step budget, no early stop).
bench-cartpole-speed: $(STAMP)
	for a in a3c nstep_q one_step_q one_step_sarsa; do \
	  $(PY) -m asyncrl -m algo=$$a workers=1,2 runtime=processes,threads total_steps=100000 \
	    stop_when_solved=false eval.episodes=0 progress=off \
	    hydra.sweep.dir=$(BENCH)/cartpole-speed/$$a || exit 1; \
	done
	$(PY) -m asyncrl.analysis.compare $(BENCH)/cartpole-speed --by algo.name runtime.kind workers

# The paper's comparisons on CartPole-v1 (docs/results.md). About 12, 20 and 5 minutes on an
# idle 2-core machine. Each target ends with the tables and figures under $(BENCH).
# `make bench-cartpole` runs all three.
bench-cartpole: bench-cartpole-grid bench-cartpole-robustness bench-cartpole-scaling

# 4 algorithms x 3 optimizers x 3 seeds, 2 workers, a fixed 100k-step budget
# (no early stop, so every curve covers the same steps and the final score is
# comparable across runs). Curves against steps and wall time, comparison table.
bench-cartpole-grid: $(STAMP)
	for a in a3c nstep_q one_step_q one_step_sarsa; do \
	  $(PY) -m asyncrl -m algo=$$a optim=sgd_momentum,rmsprop,rmsprop_shared seed=0,1,2 total_steps=100000 \
	    stop_when_solved=false eval.episodes=0 progress=off hydra.sweep.dir=$(BENCH)/cartpole-grid/$$a || exit 1; \
	done
	$(PY) -m asyncrl.analysis.compare $(BENCH)/cartpole-grid --by algo.name optim_variant \
	  --threshold 195 --window 20 --out $(BENCH)/cartpole-grid.md
	$(PY) -m asyncrl.analysis.curves $(BENCH)/cartpole-grid --by algo.name --x steps --out $(BENCH)/cartpole-grid-steps.png
	$(PY) -m asyncrl.analysis.curves $(BENCH)/cartpole-grid --by algo.name --x wall --out $(BENCH)/cartpole-grid-wall.png
	$(PY) -m asyncrl.analysis.curves $(BENCH)/cartpole-grid --by optim_variant --panels algo.name \
	  --x steps --out $(BENCH)/cartpole-grid-optim.png

# The paper's Figure 2: A3C, 20 learning rates from LogUniform(1e-4, 1e-2) (one
# per seed, the `loguniform` resolver) for each optimizer variant, 50k steps each.
# A long heartbeat: on a loaded machine a starved worker can be silent for 2 minutes
# (a failed job is recorded and the sweep goes on, but it would leave a gap in the figure).
bench-cartpole-robustness: $(STAMP)
	$(PY) -m asyncrl -m algo=a3c optim=sgd_momentum,rmsprop,rmsprop_shared "seed=range(0,20)" \
	  'optim.lr="$${loguniform:1e-4,1e-2,$${seed}}"' total_steps=50000 stop_when_solved=false \
	  eval.episodes=0 progress=off runtime.heartbeat_timeout_s=600 hydra.sweep.dir=$(BENCH)/cartpole-robustness
	$(PY) -m asyncrl.analysis.robustness $(BENCH)/cartpole-robustness --thresholds 195 475 \
	  --out $(BENCH)/cartpole-robustness.png

# The same learning-rate search, adaptive: Hydra's Optuna sweeper (TPE, 20 trials) against 20 rates drawn at random
# (the loguniform resolver, seeds 0-19), A3C with shared RMSProp, 50k steps each; every trial kept in
# benchmarks/results/cartpole-lr-search. About 15 minutes on 2 cores.
LR_SEARCH := algo=a3c optim=rmsprop_shared total_steps=50000 stop_when_solved=false eval.episodes=0 progress=off \
	runtime.heartbeat_timeout_s=600
bench-cartpole-lr-search: $(STAMP)
	$(PY) -m asyncrl -m hydra/sweeper=optuna hydra.sweeper.n_trials=20 hydra.sweeper.sampler.seed=0 \
	  'optim.lr=tag(log,interval(1e-4,1e-2))' $(LR_SEARCH) hydra.sweep.dir=$(BENCH)/cartpole-lr-search/optuna
	$(PY) -m asyncrl -m "seed=range(0,20)" 'optim.lr="$${loguniform:1e-4,1e-2,$${seed}}"' $(LR_SEARCH) \
	  hydra.sweep.dir=$(BENCH)/cartpole-lr-search/random
	for s in optuna random; do for d in $(BENCH)/cartpole-lr-search/$$s/[0-9]*; do \
	  $(PY) benchmarks/keep_run.py $$d benchmarks/results/cartpole-lr-search/$$s/$$(basename $$d) || exit 1; done; done
	cp $(BENCH)/cartpole-lr-search/optuna/optimization_results.yaml benchmarks/results/cartpole-lr-search/optuna/
	$(PY) -m asyncrl.analysis.study benchmarks/results/cartpole-lr-search/optuna benchmarks/results/cartpole-lr-search/random \
	  --names "Optuna (TPE)" "random (loguniform)" --param optim.lr --thresholds 195 475 \
	  --title "A3C on CartPole-v1, shared RMSProp, 50k steps: searching the learning rate" \
	  --out $(BENCH)/cartpole-lr-search.png

# The paper's Table 2: 1 and 2 workers (this machine has 2 cores), 5 seeds, worker counts
# interleaved (seed 0 with 1 then 2 workers, ...) so that changing load hits both alike;
# a run stops when the mean of its last 20 episodes reaches 195 (200k-step cap).
bench-cartpole-scaling: $(STAMP)
	for a in a3c nstep_q one_step_q one_step_sarsa; do \
	  $(PY) -m asyncrl -m algo=$$a seed=0,1,2,3,4 workers=1,2 env.solved_return=195 total_steps=200000 \
	    eval.episodes=0 progress=off hydra.sweep.dir=$(BENCH)/cartpole-scaling/$$a || exit 1; \
	done
	$(PY) -m asyncrl.analysis.scaling $(BENCH)/cartpole-scaling --reference 195 --window 20 \
	  --out $(BENCH)/cartpole-scaling.png

# Agent steps/s against this machine's ceiling, Breakout, 1 and 2 workers, 3 runs each
# (docs/performance.md). About 4 minutes per line on 2 cores; run on an idle machine.
bench-throughput: $(STAMP)
	for spec in "a3c 1" "nstep_q 1" "one_step_q 1" "one_step_sarsa 1" "a3c 8" "nstep_q 8"; do \
	  set -- $$spec; \
	  $(PY) benchmarks/throughput.py --env breakout --algo $$1 --envs-per-worker $$2 --workers 1 2 \
	    --seconds 20 --warmup 8 --repeats 3 --json $(BENCH)/throughput/breakout_$$1_k$$2.json \
	    --out $(BENCH)/throughput/breakout_$$1_k$$2.md || exit 1; \
	done

# A3C-LSTM against feed-forward A3C on CartPole without velocities (partially observed),
# 2 seeds each, 400k steps, no early stop; about 7 minutes on 2 cores.
bench-cartpole-lstm: $(STAMP)
	$(PY) -m asyncrl -m algo=a3c env=cartpole_novel model.lstm=true,false seed=0,1 total_steps=400000 \
	  stop_when_solved=false eval.episodes=10 progress=off hydra.sweep.dir=$(BENCH)/cartpole-lstm
	$(PY) -m asyncrl.analysis.compare $(BENCH)/cartpole-lstm --by model.lstm --threshold 195 --out $(BENCH)/cartpole-lstm.md
	$(PY) -m asyncrl.analysis.curves $(BENCH)/cartpole-lstm --by model.lstm --x steps --out $(BENCH)/cartpole-lstm.png

# ---- Atari (docs/results.md) -----------------------------------------------------
# $(call score-curves,NAME,WINDOW[,DIRS,BY,FLAGS]): score against frames and against wall time, written to
# $(BENCH)/NAME-{frames,wall}.png, for the runs in DIRS (default $(BENCH)/NAME) grouped by BY (default algo.name).
score-curves = for x in frames wall; do $(PY) -m asyncrl.analysis.curves $(or $(3),$(BENCH)/$(1)) --by $(or $(4),algo.name) \
	  --x $$x --window $(2) $(5) --out $(BENCH)/$(1)-$$x.png || exit 1; done

# The Atari runs of docs/results.md below were made before profiles existed: profile=paper
# (lr 7e-4 unscaled, annealed over total_steps) with envs_per_worker=8 repeats them.
# A3C on Pong, 2 workers x 8 envs, until the mean of the last 10 games reaches +18
# or 3 hours; curves against frames and wall time.
bench-pong-a3c: $(STAMP)
	$(PY) -m asyncrl algo=a3c env=pong profile=paper workers=2 envs_per_worker=8 total_steps=20000000 time_limit_s=10800 \
	  checkpoint.interval=1000000 eval.episodes=5 progress=log hydra.run.dir=$(BENCH)/pong-a3c
	$(call score-curves,pong-a3c,10)

# A3C on Breakout, 2 workers x 8 envs, one hour of wall time.
bench-breakout-a3c: $(STAMP)
	$(PY) -m asyncrl algo=a3c env=breakout profile=paper workers=2 envs_per_worker=8 total_steps=100000000 time_limit_s=3600 \
	  stop_when_solved=false checkpoint.interval=1000000 eval.episodes=5 progress=log hydra.run.dir=$(BENCH)/breakout-a3c
	$(call score-curves,breakout-a3c,100)

# A3C on Breakout with 1 worker x 8 envs for 50 minutes, against the 2-worker hour of
# bench-breakout-a3c (run that first): steps and wall time until the mean of the last
# 1,000 games reaches 2 (a random policy: about 1.3), and both curves.
bench-breakout-scaling: $(STAMP)
	test -f $(BENCH)/breakout-a3c/summary.json || { echo "bench-breakout-scaling: run make bench-breakout-a3c first"; exit 1; }
	$(PY) -m asyncrl algo=a3c env=breakout profile=paper workers=1 envs_per_worker=8 total_steps=100000000 time_limit_s=3000 \
	  stop_when_solved=false checkpoint.interval=1000000 eval.episodes=5 progress=log \
	  hydra.run.dir=$(BENCH)/breakout-scaling/workers1
	$(PY) -m asyncrl.analysis.scaling $(BENCH)/breakout-a3c $(BENCH)/breakout-scaling/workers1 --reference 2 --window 1000 \
	  --out $(BENCH)/breakout-scaling.png
	$(call score-curves,breakout-scaling,1000,$(BENCH)/breakout-a3c $(BENCH)/breakout-scaling/workers1,workers)

# The four algorithms on Pong, 2 workers x 8 envs, 15 minutes each (1 hour in all).
bench-pong-algos: $(STAMP)
	$(PY) -m asyncrl -m algo=a3c,nstep_q,one_step_q,one_step_sarsa env=pong profile=paper workers=2 envs_per_worker=8 \
	  total_steps=20000000 time_limit_s=900 stop_when_solved=false eval.episodes=3 progress=off \
	  hydra.sweep.dir=$(BENCH)/pong-algos
	$(PY) -m asyncrl.analysis.compare $(BENCH)/pong-algos --by algo.name --window 10 --out $(BENCH)/pong-algos.md
	$(PY) -m asyncrl.analysis.curves $(BENCH)/pong-algos --by algo.name --x frames --window 10 --out $(BENCH)/pong-algos.png

# One hour of $(ALGO) (default a3c) on each of $(GAMES) (default the paper's Figure 1 games), profile=fast
# (the default: 8 envs per worker on Atari), 2 workers, seed $(SEED) (default 0), on an otherwise idle machine.
# Each run is kept in benchmarks/results/atari-hour/$(ALGO)/GAME (GAME-seedN for SEED=N > 0; episodes only,
# compressed) as it ends, so the games can run in different sessions: `make bench-atari-hour GAMES=pong SEED=1`.
# Then atari-hour-figures. A candidate setting runs with CHANGE and keeps its hours apart from the table's:
#   make bench-atari-hour GAMES=breakout CHANGE=optim.lr_scaling=none HOUR=benchmarks/results/atari-hour-lr-none
GAMES ?= beam_rider breakout pong qbert space_invaders
ALGO ?= a3c
SEED ?= 0
HOUR ?= benchmarks/results/atari-hour
RUN_NAME = $$g$(if $(filter-out 0,$(SEED)),-seed$(SEED))
bench-atari-hour: $(STAMP)
	for g in $(GAMES); do \
	  $(PY) -m asyncrl algo=$(ALGO) env=$$g workers=2 seed=$(SEED) total_steps=100000000 time_limit_s=3600 \
	    stop_when_solved=false checkpoint.interval=1000000 eval.episodes=10 progress=log $(CHANGE) \
	    hydra.run.dir=$(BENCH)/$(notdir $(HOUR))/$(ALGO)/$(RUN_NAME) || exit 1; \
	  $(PY) benchmarks/keep_run.py $(BENCH)/$(notdir $(HOUR))/$(ALGO)/$(RUN_NAME) $(HOUR)/$(ALGO)/$(RUN_NAME) || exit 1; \
	done
	$(MAKE) --no-print-directory atari-hour-figures

# A probe: 15 minutes (PROBE_S) of A3C on Pong, 2 workers, the default profile and the changes in CHANGE,
# on an otherwise idle machine, kept in benchmarks/results/pong-probes/NAME (episodes and training records);
# then the table of every kept probe: when each left random play (-20) for good, and its policy's entropy.
#   make bench-pong-probe NAME=lr_none CHANGE=optim.lr_scaling=none
PROBE_S ?= 900
PROBES := benchmarks/results/pong-probes
bench-pong-probe: $(STAMP)
	@test -n "$(NAME)" || { echo "bench-pong-probe: give NAME= (and CHANGE=)"; exit 1; }
	$(PY) -m asyncrl algo=a3c env=pong workers=2 total_steps=100000000 time_limit_s=$(PROBE_S) \
	  stop_when_solved=false eval.episodes=2 progress=off $(CHANGE) hydra.run.dir=$(BENCH)/pong-probes/$(NAME)
	$(PY) benchmarks/keep_run.py $(BENCH)/pong-probes/$(NAME) $(PROBES)/$(NAME)
	$(PY) -m asyncrl.analysis.takeoff $(PROBES) --level -20 --out $(BENCH)/pong-probes.md

# A health probe: HEALTH_S (150) seconds of A3C on Pong as above, then how much of the network still works: the
# share of each ReLU layer's units that fire on the agent's own play, and whether the value and the policy differ
# from state to state (benchmarks/dead_units.py); kept in benchmarks/results/pong-health/NAME with that report.
#   make bench-pong-health NAME=clip10 CHANGE=optim.grad_clip=10
HEALTH_S ?= 150
HEALTH := benchmarks/results/pong-health
bench-pong-health: $(STAMP)
	@test -n "$(NAME)" || { echo "bench-pong-health: give NAME= (and CHANGE=)"; exit 1; }
	$(PY) -m asyncrl algo=a3c env=pong workers=2 total_steps=100000000 time_limit_s=$(HEALTH_S) \
	  stop_when_solved=false eval.episodes=0 progress=off $(CHANGE) hydra.run.dir=$(BENCH)/pong-health/$(NAME)
	$(PY) benchmarks/keep_run.py $(BENCH)/pong-health/$(NAME) $(HEALTH)/$(NAME)
	$(PY) benchmarks/dead_units.py $(BENCH)/pong-health/$(NAME) | tee $(HEALTH)/$(NAME)/dead_units.md

# The kept hours: score against wall time and frames, one panel per game (the paper's Figure 1 layout),
# and the mean of the last 100 games at 15, 30 and 60 minutes beside the one-hour anchors.
atari-hour-figures: $(STAMP)
	$(call score-curves,$(notdir $(HOUR)),100,$(HOUR),algo.name,--anchors)
	$(PY) -m asyncrl.analysis.score_at $(HOUR) --by algo.name seed --minutes 15 30 60 --window 100 --out $(BENCH)/$(notdir $(HOUR)).md

# ---- Small vector tasks through env=gym (docs/results.md) ----------------------------
# The small-task settings (A3C also conf/tuned/a3c_gym.yaml), 3 seeds, 2 workers, each run
# stopping at the task's solved threshold (gymnasium's reward_threshold). SMALL_TASKS entries are
# id:threshold:budget:algos. About 35 minutes on 2 cores; `make bench-small-tasks SMALL_TASKS=...` for one.
ALL_ALGOS := a3c,nstep_q,one_step_q,one_step_sarsa
SMALL_TASKS ?= Acrobot-v1:-100:500000:$(ALL_ALGOS) MountainCar-v0:-110:300000:$(ALL_ALGOS) \
	LunarLander-v3:200:500000:$(ALL_ALGOS)
bench-small-tasks: $(STAMP)
	for spec in $(SMALL_TASKS); do \
	  id=$$(echo $$spec | cut -d: -f1); thr=$$(echo $$spec | cut -d: -f2); \
	  budget=$$(echo $$spec | cut -d: -f3); algos=$$(echo $$spec | cut -d: -f4); \
	  $(PY) -m asyncrl -m algo=$$algos env=gym env.id=$$id env.solved_return=$$thr total_steps=$$budget \
	    seed=0,1,2 eval.episodes=0 progress=off hydra.sweep.dir=$(BENCH)/small-tasks/$$id || exit 1; \
	  $(PY) -m asyncrl.analysis.compare $(BENCH)/small-tasks/$$id --by algo.name --out $(BENCH)/small-tasks/$$id.md; \
	done

# ---- The test suite's learning claims, with two workers (docs/results.md) ---------------
# The learning tests train one worker with a pinned seed, which fixes the run. How often two Hogwild workers
# reach the same bars within the same budgets is a rate over seeds, measured here: 10 seeds (0-9) per claim,
# each run stopping at its bar. CartPole's four are bench-cartpole-solve. CLAIMS entries are
# name:overrides (commas between overrides; no spaces). About 15 minutes on 2 cores.
CLAIMS ?= \
	acrobot-a3c:algo=a3c,env=gym,env.id=Acrobot-v1,env.solved_return=-200,total_steps=500000,eval.episodes=0 \
	acrobot-nstep_q:algo=nstep_q,env=gym,env.id=Acrobot-v1,env.solved_return=-200,total_steps=500000,eval.episodes=0 \
	lunar_lander-one_step_q:algo=one_step_q,env=gym,env.id=LunarLander-v3,env.solved_return=0,total_steps=500000,eval.episodes=0 \
	lunar_lander-one_step_sarsa:algo=one_step_sarsa,env=gym,env.id=LunarLander-v3,env.solved_return=50,total_steps=500000,eval.episodes=0 \
	inverted_pendulum-a3c:algo=a3c,env=inverted_pendulum,total_steps=300000,eval.episodes=3,eval.deterministic=true \
	cartpole_novel-lstm:algo=a3c,env=cartpole_novel,model.lstm=true,env.solved_return=195,total_steps=300000,eval.episodes=0 \
	cartpole_novel-feed_forward:algo=a3c,env=cartpole_novel,model.lstm=false,env.solved_return=195,total_steps=150000,eval.episodes=0
bench-learning-claims: $(STAMP)
	for spec in $(CLAIMS); do \
	  name=$${spec%%:*}; overrides=$$(echo $${spec#*:} | tr ',' ' '); \
	  $(PY) -m asyncrl -m $$overrides workers=2 "seed=range(0,10)" progress=off \
	    hydra.sweep.dir=$(BENCH)/learning-claims/$$name || exit 1; \
	  $(PY) -m asyncrl.analysis.compare $(BENCH)/learning-claims/$$name --by algo.name model.lstm \
	    --out $(BENCH)/learning-claims/$$name.md || exit 1; \
	done

# ---- Ray (docs/performance.md, docs/cluster.md) -------------------------------------
# runtime=ray against runtime=processes on Breakout (1 group x 2 workers; 2 groups x 1 worker on a
# two-node local cluster), CartPole steps to solve (10 seeds each way), one parameter server's
# exchange rate. About 25 minutes on 2 cores.
bench-ray: $(STAMP)
	$(PY) benchmarks/throughput.py --env breakout --algo a3c --envs-per-worker 8 --workers 2 --runtime ray \
	  --groups 1 --baseline processes --seconds 20 --warmup 10 --repeats 3 --out $(BENCH)/ray/breakout_1x2.md
	$(PY) benchmarks/throughput.py --env breakout --algo a3c --envs-per-worker 8 --workers 1 --runtime ray \
	  --groups 2 --ray-nodes 2 --baseline processes --seconds 20 --warmup 10 --repeats 3 \
	  --out $(BENCH)/ray/breakout_2x1.md
	for s in 0 1 2 3 4 5 6 7 8 9; do \
	  $(PY) -m asyncrl seed=$$s runtime=ray runtime.groups=2 workers=1 eval.episodes=0 progress=off \
	    hydra.run.dir=$(BENCH)/ray/solve/ray/$$s || exit 1; \
	  $(PY) -m asyncrl seed=$$s workers=2 eval.episodes=0 progress=off hydra.run.dir=$(BENCH)/ray/solve/processes/$$s \
	    || exit 1; \
	done
	$(PY) -m asyncrl.analysis.compare $(BENCH)/ray/solve --by runtime --out $(BENCH)/ray/solve.md
	$(PY) benchmarks/parameter_server.py --params 677429 --clients 2 --seconds 20 --nodes 2
	$(PY) benchmarks/parameter_server.py --params 4610 --clients 2 --seconds 10 --nodes 2
