"""Formatting shared by the benchmark tables: seconds, goals met, markdown tables, the machine's load."""

from __future__ import annotations

import os


def load_average() -> str:
    """'1.09 / 0.98 / 0.95': the 1, 5 and 15 minute load averages (other processes inflate wall times)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 100 else f"{seconds:.0f}"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(row) + " |" for row in rows]
