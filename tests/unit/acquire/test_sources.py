"""Acquisition helpers: checksum specs, local linking with validation, the provenance table."""

from __future__ import annotations

import logging

import pytest

from insilico.acquire.provenance import provenance_table, write_provenance
from insilico.acquire.sources import acquire_local, parse_checksum

LOG = logging.getLogger("test")


@pytest.mark.parametrize("spec", ["sha256", "crc32:abcd", "sha1:", "abcd"])
def test_malformed_checksum_spec_names_the_entry(spec):
    with pytest.raises(ValueError, match="checksum of 'exp/x.h5'"):
        parse_checksum(spec, "exp/x.h5")


def test_checksum_spec_is_split_and_lowercased():
    assert parse_checksum("sha1:ABCdef", "k") == ("sha1", "abcdef")


def test_local_file_failing_validation_is_not_linked(tmp_path):
    source = tmp_path / "in.h5"
    source.write_bytes(b"junk")

    def refuse(path):
        raise ValueError(f"{path} is not a recording")

    with pytest.raises(ValueError, match="in.h5 is not a recording"):
        acquire_local(source, tmp_path / "out" / "in.h5", validate=refuse, log=LOG)
    assert not (tmp_path / "out" / "in.h5").exists()


def test_local_file_is_linked_unmodified_with_provenance(tmp_path):
    source = tmp_path / "in.h5"
    source.write_bytes(b"data")
    dest = acquire_local(source, tmp_path / "out" / "in.h5", validate=lambda path: None, log=LOG)
    assert dest.read_bytes() == b"data" and source.read_bytes() == b"data"
    table = provenance_table([dest])
    assert table.loc[0, "source"] == "local"
    assert table.loc[0, "origin"] == str(source.resolve())
    assert not table.loc[0, "verified_against_config"]


def test_simulated_origin_names_simulator_and_seed(tmp_path):
    data = tmp_path / "sim.h5"
    data.write_bytes(b"x")
    write_provenance(
        data,
        source="simulated",
        url_or_path=None,
        checksum=None,
        extra={"simulator_version": "1.0", "seed": 7},
    )
    assert provenance_table([data]).loc[0, "origin"] == "insilico simulator 1.0 (seed 7)"


def test_each_branch_reader_checks_its_files_and_acquisition_loads_only_that_one(tmp_path):
    """The rule names its branch's reader: a retina job's code holds no IT module and back."""
    from pathlib import Path

    from insilico.acquire.sources import validator
    from insilico.core.codedeps import closure
    from insilico.retina.recording import RetinaFileError

    junk = tmp_path / "x.h5"
    junk.write_bytes(b"junk")
    with pytest.raises(RetinaFileError, match="x.h5"):
        validator("insilico.retina.recording", "recording")(junk)
    with pytest.raises(ValueError, match="not a zip archive"):
        validator("insilico.it.assembly", "stimuli_zip")(junk)
    root = Path(__file__).parents[3]
    for reader, other in (
        ("insilico.retina.recording", "it/assembly.py"),
        ("insilico.it.assembly", "retina/recording.py"),
    ):
        for script in ("download", "link_local"):
            files = closure(root / f"scripts/acquire/{script}.py", root / "src", (reader,))
            names = {path.relative_to(root / "src/insilico").as_posix() for path in files}
            assert reader.replace("insilico.", "").replace(".", "/") + ".py" in names
            assert other not in names
