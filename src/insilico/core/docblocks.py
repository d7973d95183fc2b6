"""Numbers in the docs come from a run: replace a marked block of a Markdown file with a table.

A page holds ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` on lines of their own; everything
between them is generated, everything else is written by hand. Any branch can put its own table
(claims, budgets) into its page the same way::

    python -m insilico.core.docblocks docs/budgets.md budgets results/budgets.csv \\
        --note "config.yaml, commit abc1234"

The markers stay, so the command can be run again after every run.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
from pathlib import Path


class BlockError(ValueError):
    """The page lacks the block's markers, or holds them more than once or in the wrong order."""


def _cell(text: str) -> str:
    """A CSV field as a Markdown cell: numbers at most 3 significant decimals, pipes escaped."""
    try:
        value = float(text)
    except ValueError:
        return text.replace("|", "\\|")
    if math.isnan(value):
        return "–"
    if value.is_integer() and "e" not in text.lower():
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def markdown_table(path: str | Path) -> str:
    """The CSV file at ``path`` as a GitHub Markdown table (header row first)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise BlockError(f"{path} is empty: no table to write")
    header, body = rows[0], rows[1:]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(field) for field in row) + " |" for row in body]
    return "\n".join(lines)


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the lines between block ``name``'s markers replaced by ``content``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    pattern = re.compile(rf"^{re.escape(begin)}[ \t]*\n.*?^{re.escape(end)}[ \t]*$", re.M | re.S)
    matches = pattern.findall(text)
    if len(matches) != 1 or text.count(begin) != 1 or text.count(end) != 1:
        raise BlockError(
            f"expected one '{begin}' line followed by one '{end}' line, found {len(matches)} "
            "such blocks"
        )
    block = f"{begin}\n{content.rstrip()}\n{end}"
    return pattern.sub(lambda _: block, text)


def write_block(page: str | Path, name: str, table: str | Path, note: str = "") -> None:
    """Replace block ``name`` of ``page`` with the CSV ``table`` (and a line ``note`` under it)."""
    from insilico.core.io import atomic_path

    page = Path(page)
    content = markdown_table(table) + (f"\n\n{note}" if note else "")
    text = replace_block(page.read_text(), name, content)
    with atomic_path(page) as tmp:
        tmp.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="Markdown file holding the markers")
    parser.add_argument("name", help="block name: <!-- NAME:begin --> ... <!-- NAME:end -->")
    parser.add_argument("table", help="CSV file rendered as the block's table")
    parser.add_argument("--note", default="", help="a line under the table (config, commit)")
    args = parser.parse_args(argv)
    try:
        write_block(args.page, args.name, args.table, args.note)
    except (BlockError, OSError) as error:
        raise SystemExit(f"docblocks: {args.page}: {error}") from None


if __name__ == "__main__":
    main()
