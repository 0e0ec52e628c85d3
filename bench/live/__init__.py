"""The live-path benchmark, a module per part: `python -m bench.live` (see __main__.py for what it measures)."""
