"""Benchmarks: `make bench` (python -m bench). Figures are ratios against baselines run alongside."""
