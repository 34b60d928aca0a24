"""Where a benchmark records its figures for the report ``make bench`` writes
(``benchmarks/report.py`` -> ``docs/benchmarks.md``).

A benchmark prints what it measured for a person, and also calls :func:`record` for each
figure the report lists: its value, the baseline it is a ratio to (measured in the same
run), the target and whether it was met. Figures go, one JSON object a line, to the file
named by ``GOLDENPATH_BENCH_FIGURES``; run on its own, a benchmark records nothing.
"""

from __future__ import annotations

import json
import os

ENV = "GOLDENPATH_BENCH_FIGURES"


def record(benchmark: str, figure: str, value: str, *, baseline: str = "",
           target: str = "", met: bool | None = None) -> None:
    """One figure of ``benchmark``: ``value`` as printed (with its unit), the
    ``baseline`` it is a ratio to, the ``target`` and whether it was ``met`` (None: the
    figure has no target, it is reported for context)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = {"benchmark": benchmark, "figure": figure, "value": value,
            "baseline": baseline, "target": target, "met": met}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
