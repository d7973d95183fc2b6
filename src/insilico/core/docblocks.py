"""Numbers in the docs come from a run: replace a marked block of a Markdown file with a table.

A page holds ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` on lines of their own; everything
between them is generated, everything else is written by hand. Any branch can put its own table
(claims, budgets) into its page the same way::

    python -m insilico.core.docblocks docs/budgets.md budgets results/budgets.csv \\
        --note "config.yaml, commit abc1234"

The markers stay, so the command can be run again after every run. After a clean default run,
``python -m insilico.core.docblocks --all results --note "config.yaml, commit abc1234"`` writes
every block of :data:`DOC_TABLES` (the README's verdicts, each branch's claims, the budgets).
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


# Every generated block of the docs: page -> {block name: table under a run's results folder}.
DOC_TABLES = {
    "README.md": {"claims": "claims_summary.csv"},
    "docs/budgets.md": {"budgets": "budgets.csv"},
    "docs/branches/retina.md": {"claims_retina": "claims/retina.csv"},
    "docs/branches/it.md": {"claims_it": "claims/it.csv"},
    "docs/branches/dynamics.md": {
        "dsa_separation": "dynamics/dsa_separation.csv",
        "claims_dynamics": "claims/dynamics.csv",
        "claims_grid_cells": "claims/grid_cells.csv",
    },
    "docs/branches/bottleneck.md": {"claims_bottleneck": "claims/bottleneck.csv"},
    "docs/branches/learning_dynamics.md": {
        "claims_learning_dynamics": "claims/learning_dynamics.csv"
    },
    "docs/branches/efficient_coding.md": {"claims_efficient_coding": "claims/efficient_coding.csv"},
    "docs/branches/objectives.md": {"claims_objectives": "claims/objectives.csv"},
    "docs/branches/learning_rules.md": {"claims_learning_rules": "claims/learning_rules.csv"},
}


def write_all(root: str | Path, results: str | Path, note: str = "") -> list[str]:
    """Write every block of :data:`DOC_TABLES` whose table the run in ``results`` has, into the
    pages under ``root``; returns the blocks written (a branch the run left out keeps its old)."""
    written = []
    for page, blocks in DOC_TABLES.items():
        for name, table in blocks.items():
            if (Path(results) / table).is_file():
                write_block(Path(root) / page, name, Path(results) / table, note)
                written.append(f"{page}:{name}")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="Markdown file holding the markers, or --all's results folder")
    parser.add_argument(
        "name", nargs="?", help="block name: <!-- NAME:begin --> ... <!-- NAME:end -->"
    )
    parser.add_argument("table", nargs="?", help="CSV file rendered as the block's table")
    parser.add_argument("--note", default="", help="a line under the table (config, commit)")
    parser.add_argument("--all", action="store_true", help="every block of DOC_TABLES from a run")
    args = parser.parse_args(argv)
    try:
        if args.all:
            for block in write_all(".", args.page, args.note):
                print(f"docblocks: wrote {block}")
        else:
            write_block(args.page, args.name, args.table, args.note)
    except (BlockError, OSError) as error:
        raise SystemExit(f"docblocks: {args.page}: {error}") from None


if __name__ == "__main__":
    main()
