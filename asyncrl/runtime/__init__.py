"""The asynchronous (Hogwild) runtime: shared state, the worker loop, the runner."""
