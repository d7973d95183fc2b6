"""Rules read the config one way: a branch's own section only through its alias."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
SECTIONS = set(yaml.safe_load((REPO / "config.yaml").read_text()))
# A branch's rule file and its helpers, named after its config section (rules/<section>.smk).
BRANCH_FILES = sorted(
    path
    for path in RULES.glob("*.smk")
    if path.stem in SECTIONS and (RULES / f"{path.stem}_common.smk").exists()
)


def test_every_branch_with_helpers_is_checked():
    assert {path.stem for path in BRANCH_FILES} >= {"retina", "it", "mechanisms", "objectives"}


@pytest.mark.parametrize("rules", BRANCH_FILES, ids=lambda path: path.stem)
def test_a_branch_reads_its_own_section_through_its_alias(rules):
    """``config["<branch>"]`` appears once, in ``<branch>_common.smk`` (``NAME = config[...]``);
    the branch's rule file uses that alias, never the raw section."""
    section = re.compile(rf"""config\[["']{re.escape(rules.stem)}["']\]""")
    assert not section.search(rules.read_text()), f"{rules.name} reads config['{rules.stem}']"
    common = (RULES / f"{rules.stem}_common.smk").read_text()
    assert len(section.findall(common)) == 1, f"{rules.stem}_common.smk: one alias, one read"
