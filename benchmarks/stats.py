"""Summaries and tables shared by the benchmark sections (all times in seconds, shown in ms)."""

import math
import statistics


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``fraction`` of them at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def p95(samples: list[float]) -> float:
    return percentile(samples, 0.95)


def print_table(rows: list[tuple[str, list[float], list[float] | None]], ratio_title: str = "vs baseline") -> None:
    """One line per ``(label, samples, reference_samples)``: median, p95, min–max, median ratio.

    The ratio compares medians with the row's reference; it is left blank without one.
    """
    print(f"{'what':48} {'n':>5} {'median ms':>10} {'p95 ms':>9} {'min–max ms':>16} {ratio_title:>12}")
    for label, samples, reference in rows:
        median = statistics.median(samples)
        spread = f"{min(samples) * 1000:.1f}–{max(samples) * 1000:.1f}"
        ratio = f"{median / statistics.median(reference):11.1f}×" if reference else ""
        print(
            f"{label:48} {len(samples):5d} {median * 1000:10.1f} {p95(samples) * 1000:9.1f} {spread:>16} {ratio:>12}"
        )
