"""Compare two finished runs of the workflow file by file: are the outputs the same to the digit?

A refactoring must not change a number. Run the same config from two commits in two folders
(e.g. ``git archive <commit> | tar -x -C /tmp/before``, then ``snakemake --configfile
config/tiny.yaml`` in each), then::

    python benchmarks/compare_runs.py /tmp/before /tmp/after

Models (``.pt``) are compared by a hash of every tensor they hold (the state dicts), netCDF files
variable by variable (values, coordinates, attributes), HDF5 files dataset by dataset, everything
else (CSV, PNG) byte for byte and JSON by value. Logs and benchmarks are skipped, and so are
the values that measure time (``--timing`` names them), which no two runs share.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

SKIPPED = ("results/logs", "results/benchmarks", ".snakemake")
TIMING = ("seconds", "samples_per_second", "images_per_second", "acquired_utc")


def tensor_hash(obj, digest=None) -> str:
    """sha256 over every tensor and array in a (nested) checkpoint, in key order."""
    import torch

    digest = digest or hashlib.sha256()
    if isinstance(obj, torch.Tensor):
        digest.update(obj.detach().cpu().contiguous().numpy().tobytes())
    elif isinstance(obj, np.ndarray):
        digest.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, dict):
        for key in sorted(obj, key=str):
            digest.update(str(key).encode())
            tensor_hash(obj[key], digest)
    elif isinstance(obj, list | tuple):
        for item in obj:
            tensor_hash(item, digest)
    return digest.hexdigest()


def same_values(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def compare_netcdf(a: Path, b: Path, timing: tuple[str, ...]) -> list[str]:
    import xarray as xr

    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        names = (set(x.variables) | set(y.variables)) - set(timing)
        diffs = [n for n in sorted(names) if n not in x or n not in y]
        diffs += [
            n
            for n in sorted(names)
            if n in x and n in y and not same_values(x[n].values, y[n].values)
        ]
        attrs_x = {k: v for k, v in x.attrs.items() if k not in timing}
        attrs_y = {k: v for k, v in y.attrs.items() if k not in timing}
        if {k: str(v) for k, v in attrs_x.items()} != {k: str(v) for k, v in attrs_y.items()}:
            diffs.append("attrs")
    return diffs


def compare_h5(a: Path, b: Path) -> list[str]:
    import h5py

    def datasets(path):
        found = {}
        with h5py.File(path, "r") as f:
            f.visititems(
                lambda n, o: found.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
            )
        return found

    x, y = datasets(a), datasets(b)
    return [
        n
        for n in sorted(set(x) | set(y))
        if n not in x or n not in y or not same_values(x[n], y[n])
    ]


def compare_file(a: Path, b: Path, timing: tuple[str, ...]) -> list[str]:
    """What differs between two versions of one output ([] when they are the same)."""
    if a.suffix == ".pt":
        from insilico.core.io import load_torch

        return [] if tensor_hash(load_torch(a)) == tensor_hash(load_torch(b)) else ["tensors"]
    if a.suffix == ".nc":
        return compare_netcdf(a, b, timing)
    if a.suffix == ".h5":
        return compare_h5(a, b)
    if a.suffix == ".json":
        x, y = (without(json.loads(path.read_text()), timing) for path in (a, b))
        return [] if x == y else ["values"]
    return [] if a.read_bytes() == b.read_bytes() else ["bytes"]


def without(obj, keys: tuple[str, ...]):
    """A JSON value with the keys that measure time removed, at any depth."""
    if isinstance(obj, dict):
        return {k: without(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [without(v, keys) for v in obj]
    return obj


def outputs(root: Path) -> set[str]:
    files = set()
    for top in ("results", "resources"):
        for path in (root / top).rglob("*"):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not relative.startswith(SKIPPED) and "/.part" not in relative:
                files.add(relative)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--timing", nargs="*", default=list(TIMING), help="variables to skip")
    args = parser.parse_args()
    before, after = outputs(args.before), outputs(args.after)
    for name in sorted(before ^ after):
        print(f"only in {'before' if name in before else 'after'}: {name}")
    different = 0
    for name in sorted(before & after):
        diffs = compare_file(args.before / name, args.after / name, tuple(args.timing))
        if diffs:
            different += 1
            print(f"DIFFERENT {name}: {', '.join(diffs)}")
    models = sum(name.endswith(".pt") for name in before & after)
    print(
        f"{len(before & after)} files compared ({models} models by tensor hash): "
        f"{len(before & after) - different} identical, {different} different, "
        f"{len(before ^ after)} in one run only"
    )
    return 1 if different or before ^ after else 0


if __name__ == "__main__":
    sys.exit(main())
