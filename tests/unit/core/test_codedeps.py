"""Code inputs derived from import statements: a fake package whose closure is known by construction,
and the real scripts, whose branches must not reach into each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from insilico.core.codedeps import ImportNotFoundError, closure

REPO = Path(__file__).resolve().parents[3]

# pkg/ (the package under test) and what each file imports; `unused` is imported by nobody.
FAKE = {
    "pkg/__init__.py": '"""A fake package."""\n__version__ = "1"\n',
    "pkg/core/__init__.py": "",
    "pkg/core/io.py": "import json\n",
    "pkg/core/stats.py": "from . import io\n",
    "pkg/branch/__init__.py": "",
    "pkg/branch/models/__init__.py": "from .base import Base\n",
    "pkg/branch/models/base.py": "from ...core.stats import pearson\n",
    "pkg/branch/models/deep.py": "from pkg.branch.models import base\n",
    "pkg/branch/train.py": (
        "import numpy as np\n\n"
        "from pkg.core import io\n\n\n"
        "def fit():\n"
        "    from pkg.branch.models import Base  # inside a function, a name not a module\n"
        "    return Base, np, io\n"
    ),
    "pkg/branch/unused.py": "import pkg.core.io\n",
    "pkg/other/__init__.py": "",
    "pkg/other/thing.py": "",
}


@pytest.fixture
def fake(tmp_path) -> Path:
    for name, text in FAKE.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def names(files, root: Path) -> list[str]:
    return sorted(str(Path(file).relative_to(root / "src")) for file in files)


def script(root: Path, text: str) -> Path:
    path = root / "scripts" / "rule.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_closure_follows_imports_transitively_with_every_package_init(fake):
    path = script(fake, "from pkg.branch.train import fit\nfit()\n")
    assert names(closure(path, fake / "src", (), "pkg"), fake) == [
        "pkg/__init__.py",
        "pkg/branch/__init__.py",
        "pkg/branch/models/__init__.py",
        "pkg/branch/models/base.py",  # relative import in a package's __init__.py
        "pkg/branch/train.py",
        "pkg/core/__init__.py",
        "pkg/core/io.py",
        "pkg/core/stats.py",  # three-dot relative import, then `from . import io`
    ]


def test_from_import_of_a_submodule_counts_and_other_packages_do_not(fake):
    path = script(fake, "import json\nfrom pkg.core import stats\nfrom pkg import __version__\n")
    assert names(closure(path, fake / "src", (), "pkg"), fake) == [
        "pkg/__init__.py",
        "pkg/core/__init__.py",
        "pkg/core/io.py",
        "pkg/core/stats.py",
    ]


def test_modules_loaded_by_name_bring_their_own_imports(fake):
    path = script(fake, "import pkg.core.io\n")
    files = names(closure(path, fake / "src", ("pkg.branch.models.deep",), "pkg"), fake)
    assert "pkg/branch/models/deep.py" in files and "pkg/core/stats.py" in files
    assert "pkg/branch/unused.py" not in files and "pkg/other/thing.py" not in files


def test_an_import_of_a_missing_module_is_named(fake):
    path = script(fake, "from pkg.branch.trian import fit\n")
    with pytest.raises(ImportNotFoundError, match="pkg.branch.trian"):
        closure(path, fake / "src", (), "pkg")


BRANCHES = (
    "retina",
    "mechanisms",
    "it",
    "dynamics",
    "geometry",
    "factorisation",
    "bottleneck",
    "learning_dynamics",
)
# A branch may use only core/, acquire/ and, where it analyses another branch's products (its
# models, activations or data files), that branch. The bottleneck branch is built on the IT
# renderer and measured with the retina's simulator and STA code.
ALLOWED = {
    "retina": set(),
    "mechanisms": {"retina"},
    "it": set(),
    "dynamics": set(),
    "geometry": {"it"},
    "factorisation": {"retina", "it"},
    "bottleneck": {"retina", "it"},
    "learning_dynamics": set(),
}


@pytest.mark.parametrize("branch", BRANCHES)
def test_no_script_of_a_branch_runs_another_branchs_code(branch):
    for path in sorted((REPO / "scripts" / branch).glob("*.py")):
        used = {
            file.relative_to(REPO / "src" / "insilico").parts[0]
            for file in closure(path, REPO / "src")
        }
        others = (used & set(BRANCHES)) - {branch} - ALLOWED[branch]
        assert not others, f"{path.name} runs code of {sorted(others)}"
