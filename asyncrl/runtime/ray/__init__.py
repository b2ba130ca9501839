"""runtime=ray: Hogwild groups on a Ray cluster around a parameter server.

- :mod:`~asyncrl.runtime.ray.server`: the parameter server (one actor): the
  global parameters, the target network, the global step, the stop signal.
- :mod:`~asyncrl.runtime.ray.group`: a Hogwild group (one actor per group):
  the local runtime (:class:`asyncrl.runtime.runner.Runner`, worker processes
  sharing the group's model in shared memory) plus an exchange with the
  parameter server every ``runtime.sync_interval``.
- :mod:`~asyncrl.runtime.ray.driver`: the driver side (the ``python -m
  asyncrl`` process): connects to Ray, places the groups, hands every record
  to the run's recorder (the run directory's only writer), restarts nothing
  itself (Ray restarts a group that dies) but records it, and stops the run.

Ray is imported only here, and only with ``runtime=ray``.
"""
