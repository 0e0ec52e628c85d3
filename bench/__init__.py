"""Benchmarks of the real `mc serve` over loopback: `python bench/run.py --help`."""
