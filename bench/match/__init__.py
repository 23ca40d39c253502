"""Benchmark of the matcher (``python -m bench.match``); see ``__main__.py``."""
