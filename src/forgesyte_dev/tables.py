"""Plain-text tables and records for people; ``--json`` gives scripts the API's own JSON instead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """``columns``: (key, heading). Cells are ``str(value)``, ``-`` when missing; widths fit the content."""
    cells = [[heading.upper() for _, heading in columns]]
    cells += [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    return "\n".join(lines) + "\n"


def record(data: Mapping[str, Any], keys: Sequence[str]) -> str:
    """One object as ``key: value`` lines, in ``keys`` order, skipping empty values."""
    shown = [key for key in keys if data.get(key) not in (None, "", {}, [])]
    width = max((len(key) for key in shown), default=0)
    lines = [f"{key.ljust(width)}  {_cell(data[key])}" for key in shown]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)
