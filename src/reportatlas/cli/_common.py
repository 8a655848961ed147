"""Helpers shared by the CLI subcommands: output formats, aligned Chinese tables, logging."""
from __future__ import annotations

import json
import logging
import sys
from typing import Any, Iterable, Mapping, Sequence

import click

log = logging.getLogger("reportatlas")

FORMATS = ("table", "jsonl", "csv", "geojson")


def display_width(text: str) -> int:
    from wcwidth import wcswidth  # imported on first use: ~70 ms a process otherwise

    w = wcswidth(text)
    return len(text) if w < 0 else w


def pad(text: str, width: int, align: str = "<") -> str:
    fill = " " * max(width - display_width(text), 0)
    return text + fill if align == "<" else fill + text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:,.0f}"  # 3,000,000 rather than 3e+06: people read these
        return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "、".join(_cell(v) for v in value)
    return str(value).replace("\n", " ")


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                 *, headers: Mapping[str, str] | None = None, max_width: int = 40) -> str:
    """Rows as a plain-text table whose columns line up with CJK text (2 cells a character)."""
    if not rows:
        return "(无结果 / no rows)"
    columns = list(columns or rows[0].keys())
    headers = dict(headers or {})
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    cells = [[c if display_width(c) <= max_width else _truncate(c, max_width) for c in row] for row in cells]
    heads = [headers.get(c, c) for c in columns]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in columns]
    widths = [max(display_width(h), *(display_width(row[i]) for row in cells)) for i, h in enumerate(heads)]
    out = ["  ".join(pad(h, widths[i]) for i, h in enumerate(heads)).rstrip(),
           "  ".join("-" * w for w in widths)]
    for row in cells:
        out.append("  ".join(pad(v, widths[i], ">" if numeric[i] else "<") for i, v in enumerate(row)).rstrip())
    return "\n".join(out)


def _truncate(text: str, width: int) -> str:
    out = ""
    for ch in text:
        if display_width(out + ch) > width - 1:
            return out + "…"
        out += ch
    return out


def emit_jsonl(records: Iterable[Mapping[str, Any]], stream=None) -> None:
    stream = stream or sys.stdout
    for rec in records:
        stream.write(json.dumps(rec, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value: Any):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s: %(message)s", stream=sys.stderr)
    log.setLevel(max(level, logging.DEBUG))


def echo_err(message: str) -> None:
    click.echo(message, err=True)
