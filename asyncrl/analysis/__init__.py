"""Tables and figures from run and sweep directories, for any installed asyncrl.

Each tool reads run directories (anything holding a ``summary.json``) or the
directories above them (a sweep, a folder of sweeps), and runs as a console
script or as ``python -m asyncrl.analysis.<tool>``:

- ``asyncrl-compare`` (:mod:`~asyncrl.analysis.compare`): a table per group
  of runs: steps and wall time to a score, steps/s, final and best scores;
- ``asyncrl-curves`` (:mod:`~asyncrl.analysis.curves`): score against frames
  or wall time, one panel per env, the paper's anchors on request;
- ``asyncrl-robustness`` (:mod:`~asyncrl.analysis.robustness`): final score
  against learning rate (the paper's Figure 2);
- ``asyncrl-scaling`` (:mod:`~asyncrl.analysis.scaling`): speed-up against
  workers (the paper's Table 2);
- ``asyncrl-score-at`` (:mod:`~asyncrl.analysis.score_at`): the score at
  given wall times, beside the paper's one-hour anchors;
- ``asyncrl-study`` (:mod:`~asyncrl.analysis.study`): an adaptive search
  (Optuna) against a random one, trial by trial;
- ``asyncrl-takeoff`` (:mod:`~asyncrl.analysis.takeoff`): when a run left a
  level (random play) for good, and its policy's entropy.

:mod:`~asyncrl.analysis.runs` holds what they share: finding runs, reading
their episodes, scores and thresholds.
"""
