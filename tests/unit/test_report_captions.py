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


def render(caption: Path, config: dict | None = None) -> str:
    config = config or yaml.safe_load((REPO / "config.yaml").read_text())
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


def test_the_report_says_why_the_temporal_analyses_are_left_out():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert "left out" not in render(REPO / "report/workflow.rst", config)
    config["data"]["it"]["source"] = "local"
    config["data"]["local"]["it"].update(assembly="a.nc", stimuli_csv="s.csv", stimuli_zip="s.zip")
    text = render(REPO / "report/workflow.rst", config)
    assert "per-time-bin analyses left out" in text and "no temporal assembly" in text
    messages = io.StringIO()
    publish_doctree(text, settings_overrides={"warning_stream": messages})
    assert messages.getvalue() == ""
