"""``make bench``: run every benchmark and write bench/results.json (medians from one run)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import (
    footage,
    imports,
    load,
    local_stack,
    machine,
    plugins,
    probe,
    runner_memory,
    segments,
    uploads,
    yolo_speed,
)

RESULTS = Path(__file__).with_name("results.json")


def main() -> int:
    started = time.time()
    sections = {
        "probe": probe.run(),
        "cold_imports": imports.run(),
        "plugins": plugins.run(),
        "footage": footage.run(),
        "yolo_vs_ultralytics": yolo_speed.run(),
        "runner_memory": runner_memory.run(),
        "local_stack": local_stack.run(),
        "load": load.run(),
        "browser_uploads": uploads.run(),
        "segments": segments.run(),
    }
    report = {
        "machine": machine.describe(),
        "took_s": round(time.time() - started, 1),
        **sections,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    failed = [name for name, section in sections.items() if not section.get("target_met", True)]
    if failed:
        print(f"targets missed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
