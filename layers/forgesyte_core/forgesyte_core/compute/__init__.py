"""Compute: where a valid job runs (dispatch), running it (runner), and what it writes (results, render)."""
