"""Downloader, archive extraction, local links and provenance against a real loopback HTTP server.

The server misbehaves on demand (dropped connections, 5xx, 404, corrupted bytes, no Range support,
stalls) so that every recovery path runs for real; each case also checks that nothing half-written
is left under the final name.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from insilico import __version__
from insilico.acquire import archives, local, provenance
from insilico.acquire import download as dl

PAYLOAD = bytes(range(256)) * 1200  # 300 KiB: several of the downloader's 64 KiB chunks
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
FAST = {"backoff": 0.001, "timeout": 2.0}


class FaultyServer(ThreadingHTTPServer):
    """Serves ``payload`` at any path; ``faults`` is consumed one per request, in order.

    Faults: ``("status", code)``, ``("drop_after", n)`` (promise the full length, send n bytes,
    hang up), ``("corrupt", i)`` (flip byte i), ``("stall", seconds)`` (headers, then silence).
    """

    daemon_threads = True
    block_on_close = False

    def __init__(self, payload: bytes = PAYLOAD, faults=(), supports_range: bool = True):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.payload, self.faults, self.supports_range = payload, list(faults), supports_range
        self.seen: list[dict] = []
        self.lock = threading.Lock()

    def url(self, name: str = "data.bin") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultyServer

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            srv.seen.append({"path": self.path, "range": self.headers.get("Range")})
            kind, arg = srv.faults.pop(0) if srv.faults else ("ok", None)
        if kind == "status":
            self.send_response(arg)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = bytearray(srv.payload)
        if kind == "corrupt":
            body[arg] ^= 0xFF
        start = 0
        header = self.headers.get("Range")
        if header and srv.supports_range:
            start = int(header.removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        chunk = bytes(body[start:])
        self.send_header("Content-Length", str(len(chunk)))
        self.end_headers()
        if kind == "drop_after":
            self.wfile.write(chunk[:arg])
            self.wfile.flush()
            self.close_connection = True
            return
        if kind == "stall":
            self.wfile.flush()
            time.sleep(arg)
            self.close_connection = True
            return
        self.wfile.write(chunk)


@pytest.fixture
def serve():
    servers = []

    def start(**kwargs) -> FaultyServer:
        server = FaultyServer(**kwargs)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def assert_clean(dest, *, final_ok: bool) -> None:
    """The final file is complete and correct, or absent; no partial file remains either way."""
    part = dest.with_name(dest.name + ".part")
    assert not part.exists()
    if final_ok:
        assert dest.read_bytes() == PAYLOAD
    else:
        assert not dest.exists()


def test_plain_download(serve, tmp_path, caplog):
    server = serve()
    dest = tmp_path / "sub" / "data.bin"
    with caplog.at_level(logging.INFO, logger=dl.logger.name):
        out = dl.download(
            server.url(), dest, checksum=SHA256, algorithm="sha256", progress_interval=0, **FAST
        )
    assert out == dest
    assert_clean(dest, final_ok=True)
    assert len(server.seen) == 1 and server.seen[0]["range"] is None
    assert any("100.0%" in r.getMessage() and "/s" in r.getMessage() for r in caplog.records)


def test_dropped_connection_resumes_with_range(serve, tmp_path):
    server = serve(faults=[("drop_after", 200_000)])
    dest = tmp_path / "data.bin"
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", **FAST)
    first, second = (s["range"] for s in server.seen)
    assert first is None
    resumed_at = int(second.removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed_at <= 200_000  # only the chunk in flight when the line dropped is lost
    assert_clean(dest, final_ok=True)


def test_part_left_by_previous_run_is_resumed(serve, tmp_path):
    server = serve()
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD[:5000])
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", **FAST)
    assert [s["range"] for s in server.seen] == ["bytes=5000-"]
    assert_clean(dest, final_ok=True)


def test_complete_part_is_finalised_after_416(serve, tmp_path):
    server = serve()
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD)
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", **FAST)
    assert [s["range"] for s in server.seen] == [f"bytes={len(PAYLOAD)}-"]
    assert_clean(dest, final_ok=True)


def test_corrupted_byte_is_a_checksum_error(serve, tmp_path):
    server = serve(faults=[("corrupt", 123_456)])
    dest = tmp_path / "data.bin"
    expected = hashlib.sha1(PAYLOAD).hexdigest()
    corrupted = bytearray(PAYLOAD)
    corrupted[123_456] ^= 0xFF
    actual = hashlib.sha1(corrupted).hexdigest()
    with pytest.raises(dl.ChecksumMismatchError) as err:
        dl.download(server.url(), dest, checksum=expected.upper(), algorithm="sha1", **FAST)
    message = str(err.value)
    assert server.url() in message and expected in message and actual in message
    assert len(server.seen) == 1
    assert_clean(dest, final_ok=False)


def test_404_fails_at_once(serve, tmp_path):
    server = serve(faults=[("status", 404)])
    dest = tmp_path / "data.bin"
    with pytest.raises(dl.DownloadError, match="404") as err:
        dl.download(
            server.url(), dest, checksum=SHA256, algorithm="sha256", retries=5, backoff=10.0
        )
    assert server.url() in str(err.value)
    assert len(server.seen) == 1
    assert_clean(dest, final_ok=False)


def test_503_twice_then_success(serve, tmp_path):
    server = serve(faults=[("status", 503), ("status", 503)])
    dest = tmp_path / "data.bin"
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", **FAST)
    assert len(server.seen) == 3
    assert_clean(dest, final_ok=True)


def test_retries_are_bounded(serve, tmp_path):
    server = serve(faults=[("status", 502)] * 10)
    dest = tmp_path / "data.bin"
    with pytest.raises(dl.DownloadError, match="502") as err:
        dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", retries=2, **FAST)
    assert server.url() in str(err.value)
    assert len(server.seen) == 3
    assert_clean(dest, final_ok=False)


def test_read_timeout_is_retried(serve, tmp_path):
    server = serve(faults=[("stall", 1.0)])
    dest = tmp_path / "data.bin"
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", backoff=0.001, timeout=0.2)
    assert len(server.seen) == 2
    assert_clean(dest, final_ok=True)


def test_server_without_range_support_restarts_from_zero(serve, tmp_path):
    server = serve(faults=[("drop_after", 200_000)], supports_range=False)
    dest = tmp_path / "data.bin"
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", **FAST)
    assert len(server.seen) == 2 and server.seen[1]["range"].startswith("bytes=")
    assert_clean(dest, final_ok=True)


def test_present_file_with_right_checksum_is_not_fetched(serve, tmp_path):
    server = serve()
    dest = tmp_path / "data.bin"
    dest.write_bytes(PAYLOAD)
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    assert dl.download(server.url(), dest, checksum=md5, algorithm="md5", **FAST) == dest
    assert server.seen == []
    assert_clean(dest, final_ok=True)


def test_present_file_with_wrong_checksum_is_replaced(serve, tmp_path):
    server = serve()
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"stale")
    dl.download(server.url(), dest, checksum=SHA256, algorithm="sha256", **FAST)
    assert len(server.seen) == 1
    assert_clean(dest, final_ok=True)


@pytest.mark.parametrize(
    ("checksum", "algorithm", "match"),
    [
        (SHA256, "crc32", "unsupported"),
        (SHA256[:40], "sha256", "not a sha256 digest"),
        ("", "md5", "md5"),
    ],
    ids=["unknown-algorithm", "truncated-digest", "empty-digest"],
)
def test_bad_checksum_config_fails_before_any_request(serve, tmp_path, checksum, algorithm, match):
    server = serve()
    with pytest.raises(ValueError, match=match):
        dl.download(server.url(), tmp_path / "x", checksum=checksum, algorithm=algorithm, **FAST)
    assert server.seen == []


def test_file_digest_matches_hashlib(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    for algorithm in ("md5", "sha1", "sha256"):
        assert (
            dl.file_digest(path, algorithm, chunk_size=1000)
            == hashlib.new(algorithm, PAYLOAD).hexdigest()
        )


# --- archives -------------------------------------------------------------------------------


def make_zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def make_tar(path, members: list[tuple[str, bytes | None, str | None, bytes]]):
    """members: (name, data, linkname, tar type)."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data, linkname, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if linkname is not None:
                info.linkname = linkname
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_zip_extracts_requested_members_only(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"d/x.csv": b"x", "d/y.png": b"y", "z.txt": b"z"})
    out = tmp_path / "out"
    written = archives.extract_members(archive, out, ["d/y.png"])
    assert written == [out / "d" / "y.png"]
    assert files_under(out) == ["d", "d/y.png"]
    assert archives.extract_members(archive, out, None) == [
        out / "d/x.csv",
        out / "d/y.png",
        out / "z.txt",
    ]
    assert (out / "z.txt").read_bytes() == b"z"
    assert not [p for p in out.rglob("*.part")]


def test_missing_member_is_an_error(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"x": b"x"})
    with pytest.raises(KeyError, match="nope"):
        archives.extract_members(archive, tmp_path / "out", ["nope"])


@pytest.mark.parametrize("evil", ["../evil.txt", "d/../../evil.txt", "/tmp/insilico_evil.txt"])
def test_zip_with_escaping_member_is_refused(tmp_path, evil):
    archive = make_zip(tmp_path / "a.zip", {"good.txt": b"ok", evil: b"pwned"})
    out = tmp_path / "deep" / "out"
    with pytest.raises(archives.UnsafeArchiveError, match=repr(evil).strip("'")):
        archives.extract_members(archive, out, None)
    assert not out.exists()  # nothing is written, not even the harmless member
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "deep" / "evil.txt").exists()
    assert not os.path.exists("/tmp/insilico_evil.txt")


@pytest.mark.parametrize(
    ("kind", "linkname"),
    [
        (tarfile.SYMTYPE, "../../outside.txt"),
        (tarfile.SYMTYPE, "/etc/passwd"),
        (tarfile.LNKTYPE, "../outside.txt"),
    ],
    ids=["symlink-up", "symlink-absolute", "hardlink-up"],
)
def test_tar_with_escaping_link_is_refused(tmp_path, kind, linkname):
    archive = make_tar(
        tmp_path / "a.tar.gz",
        [("ok.txt", b"ok", None, tarfile.REGTYPE), ("sub/link", None, linkname, kind)],
    )
    out = tmp_path / "x" / "out"
    with pytest.raises(archives.UnsafeArchiveError, match="sub/link"):
        archives.extract_members(archive, out, None)
    assert not out.exists()


def test_tar_with_traversal_name_is_refused(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", [("../evil.txt", b"pwned", None, tarfile.REGTYPE)])
    with pytest.raises(archives.UnsafeArchiveError, match=r"\.\./evil\.txt"):
        archives.extract_members(archive, tmp_path / "out", None)
    assert not (tmp_path / "evil.txt").exists()


def test_tar_links_inside_become_copies(tmp_path):
    archive = make_tar(
        tmp_path / "a.tar.gz",
        [
            ("data/real.h5", b"payload", None, tarfile.REGTYPE),
            ("data/alias.h5", None, "real.h5", tarfile.SYMTYPE),
            ("hard.h5", None, "data/real.h5", tarfile.LNKTYPE),
        ],
    )
    out = tmp_path / "out"
    archives.extract_members(archive, out, ["data/alias.h5", "hard.h5"])
    for name in ("data/alias.h5", "hard.h5"):
        assert not (out / name).is_symlink()
        assert (out / name).read_bytes() == b"payload"
    assert not (out / "data" / "real.h5").exists()


# --- local data -----------------------------------------------------------------------------


def test_link_or_copy_hardlinks_on_same_filesystem(tmp_path):
    src = tmp_path / "user" / "rec.h5"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    dest = local.link_or_copy(src, tmp_path / "resources" / "rec.h5")
    assert os.path.samefile(src, dest) and dest.read_bytes() == PAYLOAD
    assert local.link_or_copy(src, dest) == dest  # idempotent


def test_link_or_copy_copies_across_filesystems(tmp_path, monkeypatch):
    def cross_device(*args):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    src = tmp_path / "rec.h5"
    src.write_bytes(PAYLOAD)
    before = src.stat()
    monkeypatch.setattr(local.os, "link", cross_device)
    dest = local.link_or_copy(src, tmp_path / "out" / "rec.h5")
    assert dest.read_bytes() == PAYLOAD and not os.path.samefile(src, dest)
    assert src.read_bytes() == PAYLOAD and src.stat().st_mtime_ns == before.st_mtime_ns
    assert files_under(tmp_path / "out") == ["rec.h5"]


def test_link_or_copy_missing_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.h5"):
        local.link_or_copy(tmp_path / "nowhere.h5", tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()


# --- provenance -----------------------------------------------------------------------------


def test_provenance_round_trip(tmp_path):
    data = tmp_path / "whitenoise.h5"
    data.write_bytes(PAYLOAD)
    sha1 = hashlib.sha1(PAYLOAD).hexdigest()
    record_path = provenance.write_provenance(
        data,
        source="remote",
        url_or_path="https://example.org/whitenoise.h5",
        checksum={"algorithm": "sha1", "digest": sha1},
        extra={"note": "test"},
    )
    assert record_path == tmp_path / "whitenoise.h5.provenance.json"
    record = provenance.read_provenance(data)
    assert record == json.loads(record_path.read_text())
    assert record["source"] == "remote" and record["url"] == "https://example.org/whitenoise.h5"
    assert record["checksums"] == {"sha1": sha1, "sha256": SHA256}
    assert record["expected_checksum"] == {"algorithm": "sha1", "digest": sha1}
    assert record["size_bytes"] == len(PAYLOAD)
    assert record["insilico_version"] == __version__ and record["extra"] == {"note": "test"}
    assert record["acquired_utc"].endswith("Z")

    provenance.write_provenance(
        data,
        source="simulated",
        url_or_path=None,
        checksum=None,
        extra={"simulator": "1.0", "seed": 3},
    )
    record = provenance.read_provenance(data)
    assert record["source"] == "simulated" and record["checksums"] == {"sha256": SHA256}
    assert record["extra"] == {"simulator": "1.0", "seed": 3}
    assert files_under(tmp_path) == ["whitenoise.h5", "whitenoise.h5.provenance.json"]


def test_provenance_refuses_wrong_file_and_unknown_source(tmp_path):
    data = tmp_path / "d.h5"
    data.write_bytes(PAYLOAD)
    with pytest.raises(dl.ChecksumMismatchError, match="0" * 32):
        provenance.write_provenance(
            data,
            source="local",
            url_or_path="/x",
            checksum={"algorithm": "md5", "digest": "0" * 32},
            extra={},
        )
    with pytest.raises(ValueError, match="source"):
        provenance.write_provenance(data, source="ftp", url_or_path=None, checksum=None, extra={})
    assert not provenance.provenance_path(data).exists()
    with pytest.raises(FileNotFoundError, match="provenance"):
        provenance.read_provenance(data)
