"""A real single-node SLURM cluster with one fake GPU, for the workflow's cluster tests.

Everything the cluster writes (slurm.conf, gres.conf, state, spool, logs, pid files) lives in one
private folder. ``/etc/slurm/slurm.conf`` and ``gres.conf`` are symbolic links to it while the
cluster runs: the plugin's job step (snakemake-executor-plugin-slurm-jobstep) strips every
``SLURM_*`` variable, ``SLURM_CONF`` included, before its ``srun``, so the configuration must be
at the default path. An existing /etc/slurm/slurm.conf that is not ours is never replaced (start
fails and says so). The daemons listen on free ports picked at start. munge is the system's: a
running munged is reused, otherwise one is started and stopped again afterwards.

Needs root and Debian's ``slurmctld slurmd slurm-client munge`` (installed with apt-get when
absent). Teardown kills only the process ids that ``start`` started, after checking that each id
still belongs to the daemon it started.

Command line::

    python tests/slurm/cluster.py start [--dir /tmp/insilico-slurm]   # about 0.5 s once installed
    python tests/slurm/cluster.py status
    python tests/slurm/cluster.py stop
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
PROGRAMS = [
    "/usr/sbin/slurmctld",
    "/usr/sbin/slurmd",
    "/usr/sbin/munged",
    "sbatch",
    "squeue",
    "sinfo",
]
DEFAULT_DIR = Path("/tmp/insilico-slurm")
MUNGE_PID_FILE = Path("/run/munge/munged.pid")
PARTITION = "debug"
STATE_FILE = "cluster.json"
SYSTEM_CONF_DIR = Path("/etc/slurm")
LINKED_CONFIGS = ("slurm.conf", "gres.conf")
CONF_FOLDER = "etc-insilico-test"  # distinctive: a dangling link into it is recognisably ours
MARKER = "# Written by tests/slurm/cluster.py"


class ClusterError(RuntimeError):
    """The cluster could not be installed, started or reached; the message says what to check."""


@dataclass
class Cluster:
    """A running cluster: its private folder and the daemons this module started there."""

    root: Path
    host: str
    ctld_port: int
    slurmd_port: int
    # daemon name -> pid, only for daemons started by us (a reused munged is not listed).
    pids: dict[str, int] = field(default_factory=dict)
    # Saved with the pids, so that stop() recognises its daemons by their command line even if
    # this module changed in between.
    conf: Path = None  # type: ignore[assignment]

    def __post_init__(self):
        self.root = Path(self.root)
        self.conf = Path(self.conf) if self.conf else self.root / CONF_FOLDER / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point SLURM clients (sbatch, squeue, the plugin) here."""
        return {"SLURM_CONF": str(self.conf)}

    def run(self, *command: str, check: bool = True, timeout: float = 30) -> str:
        """Run a SLURM client command against this cluster and return its stdout."""
        result = subprocess.run(
            command,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result.stdout

    def node_state(self) -> str:
        return self.run("sinfo", "-h", "-o", "%T", check=False, timeout=10).strip()

    def jobs(self) -> list[dict[str, str]]:
        """Every job the controller still knows (finished ones for MinJobAge seconds).

        Keys: id; name (the plugin uses its run id); comment (the plugin writes
        ``rule_<rule>_wildcards_<...>``); gpus, what the job asked for: ``gres:gpu:1`` for
        ``--gpus=1`` (tres-per-job) or ``--gres=gpu:1`` (tres-per-node), else ``N/A``; state.
        """
        fields = ["JobID", "Name", "Comment", "tres-per-job", "tres-per-node", "State"]
        output = self.run("squeue", "--states=all", "-h", "-O", ",".join(f"{f}:|" for f in fields))
        jobs = []
        for line in output.splitlines():
            job_id, name, comment, per_job, per_node, state = line.split("|")[:6]
            gpus = ",".join(value for value in (per_job, per_node) if value != "N/A") or "N/A"
            jobs.append(
                {"id": job_id, "name": name, "comment": comment, "gpus": gpus, "state": state}
            )
        return jobs

    def save(self) -> None:
        state = {**asdict(self), "root": str(self.root), "conf": str(self.conf)}
        (self.root / STATE_FILE).write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, root: Path) -> Cluster | None:
        path = Path(root) / STATE_FILE
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_reason() -> str | None:
    """Why the cluster tests cannot run here, or None. Always None in CI, where they must run
    (a missing prerequisite then fails the test with the error of :func:`start`)."""
    if in_ci():
        return None
    if os.geteuid() != 0:
        return "a real SLURM cluster needs root to start its daemons (runs in CI, CI=true)"
    if missing_programs() and shutil.which("apt-get") is None:
        return f"SLURM is not installed ({', '.join(missing_programs())}) and apt-get is absent"
    link = SYSTEM_CONF_DIR / "slurm.conf"
    if (link.exists() or link.is_symlink()) and not _ours(link):
        return (
            f"{link} belongs to this machine's own SLURM, which the test cluster must not replace"
        )
    return None


# -- installation ---------------------------------------------------------------------------------


def missing_programs() -> list[str]:
    return [program for program in PROGRAMS if shutil.which(program) is None]


def install_packages() -> None:
    """apt-get install the Debian SLURM packages if any program is missing (about 20 s)."""
    if not missing_programs():
        return
    if os.geteuid() != 0:
        raise ClusterError(f"SLURM is not installed ({missing_programs()}) and we are not root")
    if shutil.which("apt-get") is None:
        raise ClusterError(f"SLURM is not installed ({missing_programs()}) and apt-get is absent")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise ClusterError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    if missing_programs():
        raise ClusterError(f"still missing after apt-get install: {missing_programs()}")


# -- processes ------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _owned(cluster: Cluster, name: str, pid: int) -> bool:
    """Whether ``pid`` is still the daemon we started (guards against pid reuse)."""
    command = _cmdline(pid)
    if not command or not Path(command[0]).name.startswith(name):
        return False
    return name == "munged" or str(cluster.conf) in command


def _read_pid(path: Path, timeout: float, what: str, log: Path | None) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid):
            return pid
        time.sleep(0.05)
    raise ClusterError(f"{what} did not start within {timeout:.0f} s" + _tail(log))


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log}:\n" + "\n".join(text)


def _terminate(pids: list[int], timeout: float = 10) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- munge ----------------------------------------------------------------------------------------


def munge_works() -> bool:
    try:
        credential = subprocess.run(["munge", "-n"], capture_output=True, timeout=10, check=True)
        subprocess.run(
            ["unmunge"], input=credential.stdout, capture_output=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def start_munge() -> int | None:
    """Start munged as user munge unless one already answers; return the pid if we started it."""
    if munge_works():
        return None
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        raise ClusterError(f"{key} is missing: reinstall the munge package")
    for folder in (Path("/run/munge"), Path("/var/lib/munge"), Path("/var/log/munge")):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "munge", "munge")
    shutil.chown(key, "munge", "munge")
    key.chmod(0o400)
    MUNGE_PID_FILE.unlink(missing_ok=True)
    log = Path("/var/log/munge/munged.log")
    result = subprocess.run(
        ["runuser", "-u", "munge", "--", "/usr/sbin/munged"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        raise ClusterError(f"munged failed to start: {result.stderr.strip()}" + _tail(log))
    pid = _read_pid(MUNGE_PID_FILE, 10, "munged", log)
    if not munge_works():
        _terminate([pid])
        raise ClusterError("munged started but `munge -n | unmunge` fails" + _tail(log))
    return pid


# -- configuration --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def _ensure_hostname_resolves(host: str) -> None:
    try:
        socket.gethostbyname(host)
    except OSError:
        with open("/etc/hosts", "a") as hosts:
            hosts.write(f"\n127.0.0.1 {host}\n")


def _node_hardware() -> dict[str, int]:
    """What slurmd itself detects (CPUs, sockets, cores, threads, memory), so the node is valid."""
    output = subprocess.run(
        ["/usr/sbin/slurmd", "-C"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    fields = dict(item.split("=", 1) for item in output.split() if "=" in item)
    return {
        key: int(fields[key])
        for key in ("CPUs", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")
    }


def slurm_conf_text(cluster: Cluster) -> str:
    root = cluster.root
    hardware = _node_hardware()
    memory = int(hardware["RealMemory"] * 0.9)
    host = cluster.host
    return f"""{MARKER}: a one-node test cluster with one fake GPU.
ClusterName=insilico-test
SlurmctldHost={host}
SlurmctldPort={cluster.ctld_port}
SlurmdPort={cluster.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/%n
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# A job without a memory request would otherwise take the whole node.
DefMemPerCPU=1024
# Finished jobs stay visible to `squeue --states=all`: the plugin's status checks need >= 3 x its
# first check interval; the tests list every job of a run afterwards, even of a slow run.
MinJobAge=3600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
NodeName={host} CPUs={hardware["CPUs"]} SocketsPerBoard={hardware["SocketsPerBoard"]} \
CoresPerSocket={hardware["CoresPerSocket"]} ThreadsPerCore={hardware["ThreadsPerCore"]} \
RealMemory={memory} Gres=gpu:1 State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def gres_conf_text(cluster: Cluster) -> str:
    # Without File= slurmd reports 0 GPUs and the node is drained.
    return f"{MARKER}\nAutoDetect=off\nNodeName={cluster.host} Name=gpu File=/dev/null\n"


def write_config(cluster: Cluster) -> None:
    for name in (CONF_FOLDER, "state", "spool", "log", "run"):
        (cluster.root / name).mkdir(parents=True, exist_ok=True)
    cluster.conf.write_text(slurm_conf_text(cluster))
    (cluster.conf.parent / "gres.conf").write_text(gres_conf_text(cluster))


def config_is_current(cluster: Cluster) -> bool:
    """Whether the running cluster's files are what this version of the module writes."""
    try:
        return cluster.conf.read_text() == slurm_conf_text(cluster) and (
            cluster.conf.parent / "gres.conf"
        ).read_text() == gres_conf_text(cluster)
    except OSError:
        return False


def _ours(link: Path) -> bool:
    """Whether ``link`` is a symbolic link made by this module (possibly to a removed folder)."""
    if not link.is_symlink():
        return False
    target = Path(os.readlink(link))
    if not target.exists():
        return target.name in LINKED_CONFIGS and target.parent.name == CONF_FOLDER
    return target.read_text(errors="replace").startswith(MARKER)


def link_system_config(cluster: Cluster) -> None:
    """Point /etc/slurm/{slurm,gres}.conf at this cluster's files."""
    SYSTEM_CONF_DIR.mkdir(parents=True, exist_ok=True)
    for name in LINKED_CONFIGS:
        link, target = SYSTEM_CONF_DIR / name, cluster.conf.parent / name
        if link.is_symlink() and link.resolve() == target.resolve():
            continue
        if link.exists() or link.is_symlink():
            if not _ours(link):
                raise ClusterError(
                    f"{link} exists and was not written by tests/slurm/cluster.py: this machine "
                    "has its own SLURM; run the tests on a machine without one, or move it away"
                )
            other = Path(os.readlink(link)).parent.parent
            running = Cluster.load(other)
            if running is not None and other != cluster.root and _running(running):
                raise ClusterError(
                    f"another test cluster runs in {other}; stop it first: "
                    f"python tests/slurm/cluster.py stop --dir {other}"
                )
            link.unlink()
        link.symlink_to(target)


def unlink_system_config(cluster: Cluster) -> None:
    for name in LINKED_CONFIGS:
        link = SYSTEM_CONF_DIR / name
        if link.is_symlink() and Path(os.readlink(link)) == cluster.conf.parent / name:
            link.unlink()


# -- start and stop -------------------------------------------------------------------------------


def _running(cluster: Cluster) -> bool:
    return all(_alive(pid) and _owned(cluster, name, pid) for name, pid in cluster.pids.items())


def _stray_daemons(cluster: Cluster) -> list[str]:
    """slurmctld/slurmd processes reading a configuration under our folder that are not ours.

    Such leftovers (a killed session) share the spool and log folders and kill our jobs as
    unknown to their controller, so start() refuses to run beside them.
    """
    ours = set(cluster.pids.values())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours or not _alive(int(entry.name)):
            continue
        command = _cmdline(int(entry.name))
        if (
            command
            and Path(command[0]).name in {"slurmctld", "slurmd"}
            and any(part.startswith(str(cluster.root) + "/") for part in command)
        ):
            found.append(f"{entry.name} ({' '.join(command)})")
    return found


def is_running(root: Path = DEFAULT_DIR) -> bool:
    """Whether a cluster started by this module runs in ``root``."""
    cluster = Cluster.load(Path(root).resolve())
    return cluster is not None and "slurmctld" in cluster.pids and _running(cluster)


def _wait_idle(cluster: Cluster, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = cluster.node_state()
        if state == "idle":
            return
        if any(word in state for word in ("drain", "inval")) and "*" not in state:
            break
        time.sleep(0.1)
    raise ClusterError(
        f"node did not become idle within {timeout:.0f} s (sinfo says {state!r})"
        + _tail(cluster.root / "log" / "slurmctld.log")
        + _tail(cluster.root / "log" / "slurmd.log")
    )


def start(root: Path = DEFAULT_DIR, timeout: float = 30) -> Cluster:
    """Start the cluster in ``root`` (or return it if it already runs there) and wait for idle."""
    root = Path(root).resolve()
    existing = Cluster.load(root)
    if (
        existing is not None
        and "slurmctld" in existing.pids
        and _running(existing)
        and config_is_current(existing)
        and existing.node_state() in {"idle", "mixed", "allocated", "completing"}
    ):
        return existing
    if existing is not None:
        stop(root)
    if os.geteuid() != 0:
        raise ClusterError("starting SLURM daemons needs root")
    install_packages()
    host = socket.gethostname().split(".")[0]
    _ensure_hostname_resolves(host)
    cluster = Cluster(root=root, host=host, ctld_port=_free_port(), slurmd_port=_free_port())
    stray = _stray_daemons(cluster)
    if stray:
        raise ClusterError(
            "SLURM daemons of an earlier test cluster in "
            f"{root} still run and would disturb a new one; end them (kill PID) first: "
            + "; ".join(stray)
        )
    root.mkdir(parents=True, exist_ok=True)
    for name in ("state", "spool", "log", "run"):
        shutil.rmtree(root / name, ignore_errors=True)
    write_config(cluster)
    cluster.save()
    try:
        link_system_config(cluster)
        munge_pid = start_munge()
        if munge_pid is not None:
            cluster.pids["munged"] = munge_pid
            cluster.save()
        env = {**os.environ, **cluster.env}
        for daemon in ("slurmctld", "slurmd"):
            command = [f"/usr/sbin/{daemon}", "-f", str(cluster.conf)]
            if daemon == "slurmd":
                command += ["-N", host]
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
            log = root / "log" / f"{daemon}.log"
            if result.returncode != 0:
                raise ClusterError(f"{daemon} failed: {result.stderr.strip()}" + _tail(log))
            cluster.pids[daemon] = _read_pid(root / "run" / f"{daemon}.pid", timeout, daemon, log)
            cluster.save()
        _wait_idle(cluster, timeout)
    except BaseException:
        stop(root)
        raise
    return cluster


def stop(root: Path = DEFAULT_DIR) -> None:
    """Cancel the cluster's jobs and stop the daemons ``start`` started there; no-op if none."""
    root = Path(root).resolve()
    cluster = Cluster.load(root)
    if cluster is None:
        return
    if "slurmctld" in cluster.pids and _running(cluster):
        # Jobs still running (a failed test) would otherwise outlive their controller.
        cluster.run("scancel", "--full", "--partition", PARTITION, check=False, timeout=10)
    # Node daemon first, then controller, then munge: each needs the next one while stopping.
    order = [name for name in ("slurmd", "slurmctld", "munged") if name in cluster.pids]
    pids = [cluster.pids[name] for name in order if _owned(cluster, name, cluster.pids[name])]
    _terminate(pids)
    unlink_system_config(cluster)
    (root / STATE_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="private cluster folder")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            began = time.monotonic()
            cluster = start(args.dir)
            print(
                f"# cluster up in {time.monotonic() - began:.1f} s: {cluster.pids}", file=sys.stderr
            )
        elif args.action == "stop":
            stop(args.dir)
        else:
            cluster = Cluster.load(args.dir.resolve())
            if cluster is None or not _running(cluster):
                print("no cluster running in", args.dir, file=sys.stderr)
                return 1
            print(cluster.node_state(), cluster.pids)
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
