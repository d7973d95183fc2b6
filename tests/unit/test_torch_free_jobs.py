"""Jobs that run no network do not import torch: importing it costs a small job most of its start.

A rule runs a network when it claims a GPU (``resources: gpu``); four more run one on the CPU (listed
below, with why). Every other rule's script has its top-level imports run in a fresh interpreter,
which must end without torch loaded.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Scripts that run a network (or torch code) without claiming a GPU.
CPU_NETWORK_SCRIPTS = {
    "scripts/it/simulate.py": "the simulated experiment is the responses of a ground-truth network",
    "scripts/it/groundtruth_network.py": "trains that small hidden network once (about a CPU minute)",
    "scripts/dynamics/plot.py": "the trajectory panel runs the trained RNNs on probe trials",
    "scripts/mechanisms/control_model.py": "builds the positive-control CNN and calibrates it on "
    "white noise (a second)",
    "scripts/mechanisms/trained_control.py": "trains the small trained control on the CPU (about "
    "15 CPU-s at the default scale)",
    "scripts/bottleneck/reference.py": "the simulated retina's STA uses the retina branch's "
    "(torch) STA code, the one that measures the networks",
    "scripts/efficient_coding/retina_types.py": "the simulated ganglion types' STAs use the retina "
    "branch's (torch) STA code",
    "scripts/objectives/measures.py": "probes, attacks and scores the small trained CNNs (CPU seconds)",
}


def rule_scripts() -> dict[str, bool]:
    """Every rule's script -> whether the rule claims a GPU, from rules/*.smk."""
    scripts: dict[str, bool] = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=\s*rule\b)", smk.read_text()):
            script = re.search(r'script:\s*\n\s*"\.\./(scripts/[^"]+)"', block)
            if script:
                gpu = re.search(r"^\s*gpu=", block, re.MULTILINE) is not None
                scripts[script.group(1)] = scripts.get(script.group(1), False) or gpu
    return scripts


SCRIPTS = rule_scripts()
TORCH_FREE = sorted(s for s, gpu in SCRIPTS.items() if not gpu and s not in CPU_NETWORK_SCRIPTS)


def test_the_rule_files_were_read():
    assert "scripts/retina/train.py" in SCRIPTS and SCRIPTS["scripts/retina/train.py"]
    assert "scripts/retina/plot_comparison.py" in TORCH_FREE
    assert set(CPU_NETWORK_SCRIPTS) <= set(SCRIPTS)


def top_level_imports(script: Path) -> str:
    """The script's module-level import statements (what it loads before any work)."""
    tree = ast.parse(script.read_text())
    nodes = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return ast.unparse(ast.Module(body=nodes, type_ignores=[]))


@pytest.mark.parametrize("script", TORCH_FREE)
def test_a_job_that_runs_no_network_does_not_import_torch(script):
    code = top_level_imports(REPO / script) + "\nimport sys\nprint('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", f"{script} imports torch"
