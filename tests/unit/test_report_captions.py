"""Report captions (report/*.rst) render with the default config and are valid reStructuredText.

Snakemake renders each caption with Jinja, then docutils turns it into HTML; docutils reports
mistakes such as ``|x|`` (a substitution reference in RST, not an absolute value) only as
messages in the log, and the report then shows them in red instead of the caption's text.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
import yaml
from docutils.core import publish_doctree

REPO = Path(__file__).resolve().parents[2]
CAPTIONS = sorted((REPO / "report").glob("*.rst"))


def render(caption: Path) -> str:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    snakemake = SimpleNamespace(config=config, wildcards=defaultdict(lambda: "sim01"), params={})
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(caption.read_text())
    return template.render(snakemake=snakemake)


def test_there_are_captions():
    assert len(CAPTIONS) >= 10


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda path: path.name)
def test_caption_is_valid_restructured_text(caption):
    messages = io.StringIO()
    publish_doctree(render(caption), settings_overrides={"warning_stream": messages})
    assert messages.getvalue() == "", f"{caption.name}: {messages.getvalue()}"
