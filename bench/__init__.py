"""Benchmarks behind ``make bench``; results go to bench/results.json."""
