"""The documentation holds together: a short README, every relative link and #anchor in the README,
docs/ and config/README.md resolves, and every branch the schema knows has its page, its README
row and its target rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO / "README.md", REPO / "config" / "README.md", *(REPO / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def prose(text: str) -> str:
    """The text outside fenced code blocks (a `# comment` in a shell block is no heading)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return "\n".join(kept)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+\s+(.*)$", prose(path.read_text()), flags=re.M)
    return {anchor(heading) for heading in headings}


def relative_links(path: Path) -> list[str]:
    links = LINK.findall(prose(path.read_text()))
    return [link for link in links if not re.match(r"^[a-z]+:", link)]


def schema_branches() -> list[str]:
    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    return schema["properties"]["branches"]["items"]["enum"]


def test_readme_is_a_front_page():
    assert len((REPO / "README.md").read_text().splitlines()) <= 150


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(doc):
    assert relative_links(doc) or doc.name != "README.md", "a README without links"
    for link in relative_links(doc):
        target, _, fragment = link.partition("#")
        resolved = (doc.parent / target).resolve() if target else doc
        assert resolved.exists(), f"{link} in {doc.relative_to(REPO)}: no such file"
        if fragment:
            assert resolved.suffix == ".md", f"{link}: an anchor into a non-Markdown file"
            assert fragment in anchors(resolved), f"{link} in {doc.relative_to(REPO)}: no heading"


def test_every_branch_has_its_page_and_readme_row():
    readme = (REPO / "README.md").read_text()
    for branch in schema_branches():
        page = REPO / "docs" / "branches" / f"{branch}.md"
        assert page.exists(), f"branch {branch} has no docs/branches/{branch}.md"
        assert f"(docs/branches/{branch}.md)" in readme, f"README has no row for {branch}"


def test_every_branch_has_its_target_rule():
    """The README's `snakemake <branch>` works: a rule named after each branch."""
    rules = "\n".join(path.read_text() for path in (REPO / "rules").glob("*.smk"))
    for branch in schema_branches():
        assert re.search(rf"^rule {branch}:$", rules, flags=re.M), f"no rule {branch}"


def test_link_checker_catches_a_broken_link_and_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [bad](#nothing) [gone](missing.md)\n```\n# no\n```\n")
    assert anchors(page) == {"title"}
    assert relative_links(page) == ["#title", "#nothing", "missing.md"]
    assert anchor("Reference scale (`config/reference.yaml`, issue 14)") == (
        "reference-scale-configreferenceyaml-issue-14"
    )
