"""The package modules a script runs, found from its import statements: a rule's code inputs.

Snakemake tracks a rule's script but not the modules the script imports. Declaring those modules as
the rule's inputs makes an edit to one of them rerun exactly the rules that run it; kept by hand,
such lists drift. So they are derived: the script's import statements are parsed (nothing is run),
including imports inside functions and relative imports, and followed transitively through the
package. Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` too, so those count.

A module loaded by name at run time (``importlib``, e.g. the model a wildcard names) is invisible to
the parser; callers pass such modules explicitly and get their closure as well.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path


class ImportNotFoundError(LookupError):
    """An import of the package names a module that does not exist."""


def module_file(root: Path, name: str) -> Path | None:
    """The source file of module ``name`` (dotted) under ``root``, the folder holding the package;
    a package's ``__init__.py``. None if there is no such module (e.g. a function's name)."""
    base = Path(root).joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _absolute(node: ast.ImportFrom, module: str | None, is_package: bool) -> str | None:
    """The module a ``from ... import`` statement imports from, made absolute."""
    if node.level == 0:
        return node.module
    if module is None:  # a script is not in a package: it cannot import relatively
        return None
    parts = (module if is_package else module.rpartition(".")[0]).split(".")
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def imports_of(path: Path, module: str | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """(modules that must exist, names that are modules if such files exist) imported by ``path``.

    ``module`` is the dotted name of ``path`` (None for a script), to resolve relative imports.
    ``from a import b`` imports ``a`` and, if ``a/b`` is a module, that module too. Each file is
    parsed once per process and version (its size and modification time): every rule's closure
    shares the package's modules, and Snakemake parses the workflow again in every job, so parsing
    each module once per rule cost about half of that start-up.
    """
    stat = Path(path).stat()
    return _imports(str(path), module, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _imports(
    path: str, module: str | None, _mtime_ns: int, _size: int
) -> tuple[frozenset[str], frozenset[str]]:
    tree = ast.parse(Path(path).read_text(), filename=path)
    is_package = Path(path).name == "__init__.py"
    required, optional = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            required.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            if base is not None:
                required.add(base)
                optional.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(required), frozenset(optional)


@functools.cache
def closure(
    script: Path, root: Path, modules: tuple[str, ...] = (), package: str = "insilico"
) -> tuple[Path, ...]:
    """Sorted source files of every ``package`` module that ``script`` imports, directly or through
    other modules, and of ``modules`` (dotted names loaded at run time) and what they import."""
    found: dict[str, Path] = {}
    pending: list[tuple[Path, str | None]] = [(Path(script), None)]
    wanted: list[tuple[str, bool, Path]] = [(name, True, Path(script)) for name in modules]
    while pending or wanted:
        if pending:
            path, name = pending.pop()
            required, optional = imports_of(path, name)
            wanted += [(m, True, path) for m in sorted(required)]
            wanted += [(m, False, path) for m in sorted(optional)]
            continue
        name, must_exist, importer = wanted.pop()
        parts = name.split(".")
        if parts[0] != package:
            continue
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in found:
                continue
            file = module_file(root, prefix)
            if file is None:
                if must_exist or depth < len(parts):
                    raise ImportNotFoundError(f"{importer} imports {name}, which is not in {root}")
                break
            found[prefix] = file
            pending.append((file, prefix))
    return tuple(sorted(found.values()))
