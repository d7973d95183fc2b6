"""Marked blocks of a Markdown page replaced by a table rendered from a CSV file."""

from __future__ import annotations

import pytest

from insilico.core import docblocks

PAGE = """# Budgets

Hand-written text.

<!-- budgets:begin -->
old table
<!-- budgets:end -->

More text, kept.
<!-- claims:begin -->
claims here
<!-- claims:end -->
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text(
        "branch,jobs,cpu_s,share,status\nretina,63,301.25,0.8367,within\nit,4,nan,,a|b\n"
    )
    return path


def test_the_block_is_replaced_and_everything_else_kept(tmp_path, table):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    docblocks.write_block(page, "budgets", table, note="config.yaml, commit abc")
    text = page.read_text()
    assert "old table" not in text
    assert text.startswith("# Budgets\n\nHand-written text.\n\n<!-- budgets:begin -->\n")
    assert "| branch | jobs | cpu_s | share | status |\n|---|---|---|---|---|\n" in text
    assert "| retina | 63 | 301 | 0.837 | within |" in text
    assert "| it | 4 | – |  | a\\|b |" in text
    assert "config.yaml, commit abc\n<!-- budgets:end -->\n\nMore text, kept." in text
    assert "claims here" in text  # another block is untouched


def test_rewriting_is_idempotent(tmp_path, table):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    docblocks.write_block(page, "budgets", table)
    once = page.read_text()
    docblocks.write_block(page, "budgets", table)
    assert page.read_text() == once


@pytest.mark.parametrize(
    "text",
    [
        "no markers\n",
        "<!-- budgets:end -->\n<!-- budgets:begin -->\n",
        "<!-- budgets:begin -->\na\n<!-- budgets:end -->\n<!-- budgets:begin -->\n<!-- budgets:end -->\n",
    ],
    ids=["missing", "reversed", "twice"],
)
def test_a_page_without_exactly_one_block_is_refused(text):
    with pytest.raises(docblocks.BlockError, match="budgets:begin"):
        docblocks.replace_block(text, "budgets", "x")


def test_command_line_names_the_page_on_error(tmp_path, table):
    page = tmp_path / "page.md"
    page.write_text("nothing\n")
    with pytest.raises(SystemExit, match="page.md"):
        docblocks.main([str(page), "budgets", str(table)])
    page.write_text(PAGE)
    docblocks.main([str(page), "claims", str(table)])
    assert "| retina | 63 |" in page.read_text() and "old table" in page.read_text()
