"""asyncrl: the four methods of Mnih et al. 2016 on one asynchronous runtime."""

__version__ = "0.1.0"
