"""pytest imports test files by basename (no packages under tests/): two alike names break collection."""

from collections import Counter
from pathlib import Path


def test_every_test_file_has_a_unique_basename():
    names = Counter(path.name for path in Path(__file__).parents[1].rglob("test_*.py"))
    assert not [name for name, count in names.items() if count > 1]
