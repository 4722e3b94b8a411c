"""How the CLI prints: JSON for scripts, aligned plain text for people."""

import json
import re
from collections.abc import Sequence
from typing import Any

import click

# Control characters (C0, DEL, C1) in server-supplied text could move the cursor or recolour
# the terminal; in table output they become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
MAX_CELL = 60


def emit_json(data: Any) -> None:
    """The API's own object (or a list of them), unchanged, for `jq` and friends."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def cell(value: Any, *, limit: int | None = MAX_CELL) -> str:
    """One value as a single line of plain text."""
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = _CONTROL.sub(" ", str(value)).strip()
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell, two spaces apart; the last column is not padded."""
    lines = [list(headers), *([cell(value) for value in row] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """`name  value` lines for one object, names aligned."""
    width = max(len(name) for name, _ in pairs)
    return "\n".join(
        f"{name.ljust(width)}  {cell(value, limit=None)}".rstrip() for name, value in pairs
    )
