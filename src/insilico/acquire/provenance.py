"""Provenance: a sidecar ``<file>.provenance.json`` next to every data file saying where it came
from (simulated, downloaded or local), its checksums and when it was acquired."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insilico import __version__
from insilico.acquire.download import SOURCES, ChecksumMismatchError, check_algorithm, file_digest
from insilico.core.io import write_json

if TYPE_CHECKING:
    import pandas as pd


def provenance_path(data_path: str | os.PathLike) -> Path:
    """Where the provenance record of ``data_path`` lives: ``<data_path>.provenance.json``."""
    data_path = Path(data_path)
    return data_path.with_name(data_path.name + ".provenance.json")


def write_provenance(
    data_path: str | os.PathLike,
    *,
    source: str,
    url_or_path: str | None,
    checksum: dict | None,
    extra: dict,
) -> Path:
    """Record where ``data_path`` came from, next to it, and return the record's path.

    ``checksum`` is the configured ``{"algorithm": ..., "digest": ...}`` (or None); the digests in
    the record are computed from the file itself (sha256 always, plus the configured algorithm),
    and a file that does not match the configured digest is refused rather than documented.
    """
    data_path = Path(data_path)
    if source not in SOURCES:
        raise ValueError(f"provenance source must be one of {SOURCES}, got {source!r}")
    if not data_path.is_file():
        raise FileNotFoundError(f"cannot record provenance of {data_path}: no such file")
    algorithms = {"sha256"}
    expected = None
    if checksum is not None:
        if set(checksum) != {"algorithm", "digest"}:
            raise ValueError(
                f"checksum for {data_path} must be {{'algorithm': ..., 'digest': ...}}, got {checksum!r}"
            )
        algorithm = check_algorithm(checksum["algorithm"])
        expected = {"algorithm": algorithm, "digest": str(checksum["digest"]).strip().lower()}
        algorithms.add(algorithm)
    digests = {alg: file_digest(data_path, alg) for alg in sorted(algorithms)}
    if expected and digests[expected["algorithm"]] != expected["digest"]:
        raise ChecksumMismatchError(
            str(url_or_path or data_path),
            expected["algorithm"],
            expected["digest"],
            digests[expected["algorithm"]],
        )
    record: dict[str, Any] = {
        "file": data_path.name,
        "source": source,
        "url": url_or_path if source == "remote" else None,
        "path": url_or_path if source != "remote" else None,
        "expected_checksum": expected,
        "checksums": digests,
        "size_bytes": data_path.stat().st_size,
        "acquired_utc": dt.datetime.now(dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "insilico_version": __version__,
        "extra": extra,
    }
    out = provenance_path(data_path)
    write_json(record, out)
    return out


def read_provenance(data_path: str | os.PathLike) -> dict[str, Any]:
    """The provenance record written by :func:`write_provenance` for ``data_path``."""
    path = provenance_path(data_path)
    if not path.is_file():
        raise FileNotFoundError(f"no provenance record {path} for {data_path}")
    return json.loads(path.read_text())


def provenance_table(data_paths: list[str | Path]) -> pd.DataFrame:
    """One row per acquired file: where it came from and the digest it had, for the report."""
    import pandas as pd  # lazily: the acquisition jobs need no pandas

    rows = []
    for path in data_paths:
        record = read_provenance(path)
        extra = record.get("extra", {})
        origin = record.get("url") or record.get("path")
        if record["source"] == "simulated":
            origin = (
                f"insilico simulator {extra.get('simulator_version')} (seed {extra.get('seed')})"
            )
        rows.append(
            {
                "file": str(path),
                "source": record["source"],
                "origin": origin,
                "sha256": record["checksums"]["sha256"],
                "verified_against_config": record.get("expected_checksum") is not None,
                "size_bytes": record["size_bytes"],
                "acquired_utc": record["acquired_utc"],
            }
        )
    return pd.DataFrame(rows)
