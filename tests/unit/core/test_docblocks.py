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


def test_every_generated_block_of_the_docs_has_its_markers_once():
    from pathlib import Path

    from insilico.core.docblocks import DOC_TABLES, replace_block

    root = Path(__file__).resolve().parents[3]
    for page, blocks in DOC_TABLES.items():
        text = (root / page).read_text()
        for name in blocks:
            replace_block(text, name, "| a |\n|---|")  # raises unless the markers are there once


def test_write_all_fills_the_blocks_whose_tables_the_run_has(tmp_path):
    from insilico.core.docblocks import DOC_TABLES, write_all

    (tmp_path / "README.md").write_text("x\n<!-- claims:begin -->\nold\n<!-- claims:end -->\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "claims_summary.csv").write_text("branch,claims\nretina,3\n")
    written = write_all(tmp_path, tmp_path / "results", note="a note")
    assert written == ["README.md:claims"] and "claims" in DOC_TABLES["README.md"]
    text = (tmp_path / "README.md").read_text()
    assert "| retina | 3 |" in text and "a note" in text and "old" not in text
