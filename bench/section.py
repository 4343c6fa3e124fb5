"""Run one section of ``make bench`` alone: its figures replace that section of bench/results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def write_section(name: str, section: dict[str, Any]) -> int:
    """Store ``section`` under ``name``, print it, and exit 1 if it missed its target."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[name] = section
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(section, indent=2))
    return 0 if section["target_met"] else 1
