"""Run untrusted, model-written Python in a separate, limited, throw-away process.

Every run starts a fresh interpreter (`python -I`, via `sandbox_runner.py`) in its own session, with a fresh
temporary directory as working directory (also its `HOME` and `TMPDIR`), an environment that holds none of the
parent's variables, and stdin/stdout/stderr connected to files in that directory (output is read back with a
cap, never unboundedly). The directory is removed afterwards. `Sandbox.map` runs many programs at once on a
bounded `ThreadPoolExecutor` of `workers` threads, each waiting on one child process.

What is isolated (strongest mode, chosen automatically when the kernel allows it; verified on Linux 6.18 both
as root, by `tests/test_sandbox.py`, and as an unprivileged user through a user namespace):

* Processes: fresh PID namespace. The program runs as PID 2 under a small init; when the init ends (or is
  killed with the session), the kernel kills everything left in the namespace, double-forked or `setsid`
  daemons included. A wall-clock timeout kills the session; `RLIMIT_CPU` bounds CPU time.
* User: as root, each run gets a fresh, unused uid (not in `/etc/passwd`), so `RLIMIT_NPROC` (which root would
  ignore) bounds its processes and threads, it cannot signal or `ptrace` any other process, it cannot read other
  processes' `/proc/*/environ`, and ordinary file permissions keep it out of everything it does not own. Where
  the interpreter lies under a directory other users cannot enter (a Python installed in `/root`), that
  directory is covered by an empty tmpfs into which only the interpreter's own folders are bound back. Not
  root: a user namespace maps the program to the caller's uid with every capability dropped.
* Network: fresh network namespace (no interfaces up, not even loopback), and an audit hook that refuses
  `connect`/`bind`/`sendto` on IP sockets and name lookups.
* Files: a fresh mount namespace with private, size-limited tmpfs over the working directory and over every
  world-writable scratch directory (`/tmp`, `/var/tmp`, `/dev/shm`, `/run/lock`), all discarded with the
  namespace; `RLIMIT_FSIZE` bounds any one file (stdout included); an audit hook refuses Python-level writes,
  renames, deletions and permission changes outside the working directory.
* Memory: `RLIMIT_AS`; stack: `RLIMIT_STACK` (raised, so deep recursion behaves like on a judge); open files:
  `RLIMIT_NOFILE`; `no_new_privs` stops set-uid executables from gaining privileges.

Fallback (no namespaces: another OS, a container without `unshare`, or `namespaces=False`): own session and
process group killed as a whole, the fresh uid where root and the interpreter is executable by other users
(leftover processes of that uid are then found in `/proc` and killed), the same limits, and audit hooks that
additionally refuse new processes, signals to other processes, other processes' `/proc` entries and `ctypes`.
`Sandbox.isolation.describe()` says which mode is active, and a reduced mode is logged as a warning.

What is not isolated: the program can read any world-readable file (the Python installation, datasets, the
project's code); CPU and memory bandwidth are shared, so it can slow the host while it runs; native code
(extension modules) bypasses the audit hooks, which matters only in the fallback mode; in the fallback mode
without root, nothing stops a process that escapes the guards from touching the user's own files.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from trl_vpd.verifiers import sandbox_runner

logger = logging.getLogger(__name__)

STATUSES = ("ok", "error", "timeout", "memory", "killed", "syntax_error", "output_limit")
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class SandboxResult:
    """How one run ended. `status` is one of `STATUSES`; `exit_code` is negative when a signal ended it."""

    status: str
    stdout: str
    stderr: str
    exit_code: int | None
    duration: float
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Isolation:
    """Which isolation mode a sandbox uses: kernel namespaces, and whether each run gets its own uid."""

    namespaces: bool
    separate_user: bool

    def describe(self) -> str:
        parts = (
            ["PID, network and mount namespaces"]
            if self.namespaces
            else ["own process group (no namespaces: audit-hook guards refuse new processes, network and ctypes)"]
        )
        parts.append("a fresh uid per run" if self.separate_user else "the caller's uid")
        return ", ".join(parts)


class Sandbox:
    """Runs Python programs in isolated, resource-limited child processes (see the module docstring).

    Args:
        timeout: wall-clock seconds per run (interpreter start included).
        cpu_seconds: CPU seconds per run (`RLIMIT_CPU`); defaults to `timeout` rounded up.
        memory_mb: address-space limit (`RLIMIT_AS`).
        max_processes: processes and threads the run's uid may have (`RLIMIT_NPROC`; needs a separate uid or a
            user namespace, since root ignores it).
        max_file_mb: size limit of any file the program writes, stdout and stderr included (`RLIMIT_FSIZE`).
        max_output_bytes: how much of stdout and stderr is read back.
        scratch_mb: size of each private tmpfs (working directory, `/tmp`, ...) in namespace mode.
        workers: how many programs `map` runs at once.
        python: the interpreter to run programs with (default: this one, so the same packages are importable).
        namespaces: use kernel namespaces; `None` uses them when they work here.
        separate_user: run each program as a fresh uid; `None` does so when running as root.
    """

    def __init__(
        self,
        timeout: float = 3.0,
        cpu_seconds: int | None = None,
        memory_mb: int = 1024,
        max_processes: int = 32,
        max_file_mb: int = 16,
        max_output_bytes: int = 1 << 20,
        scratch_mb: int = 64,
        stack_mb: int = 256,
        max_open_files: int = 256,
        workers: int | None = None,
        python: str | None = None,
        namespaces: bool | None = None,
        separate_user: bool | None = None,
    ):
        self.timeout = timeout
        self.cpu_seconds = cpu_seconds if cpu_seconds is not None else max(1, int(-(-timeout // 1)))
        self.memory_mb = memory_mb
        self.max_processes = max_processes
        self.max_file_mb = max_file_mb
        self.max_output_bytes = max_output_bytes
        self.scratch_mb = scratch_mb
        self.stack_mb = stack_mb
        self.max_open_files = max_open_files
        self.workers = workers or min(8, os.cpu_count() or 1)
        self.python = python or sys.executable
        self._requested = (namespaces, separate_user)
        self._isolation: Isolation | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def isolation(self) -> Isolation:
        if self._isolation is None:
            self._isolation = detect_isolation(self.python, *self._requested)
        return self._isolation

    def run(self, program: str, stdin: str = "", timeout: float | None = None) -> SandboxResult:
        """Run one program to completion (or to its limits) in the calling thread."""
        return self._run(program, stdin, self.isolation, self.timeout if timeout is None else timeout)

    def map(self, jobs: Iterable[tuple[str, str]]) -> list[SandboxResult]:
        """Run `(program, stdin)` pairs, at most `workers` at a time; results in the order of `jobs`."""
        jobs = list(jobs)
        if len(jobs) <= 1:
            return [self.run(program, stdin) for program, stdin in jobs]
        isolation = self.isolation
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="trl-vpd-sandbox")
        futures = [self._executor.submit(self._run, program, stdin, isolation, self.timeout) for program, stdin in jobs]
        return [future.result() for future in futures]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, program: str, stdin: str, isolation: Isolation, timeout: float) -> SandboxResult:
        start = time.monotonic()
        root = tempfile.mkdtemp(prefix="trl-vpd-sandbox-")
        uid = fresh_uid() if isolation.separate_user else None
        try:
            workdir = os.path.join(root, "work")
            os.mkdir(workdir, 0o700)
            os.chmod(root, 0o711)
            if uid is not None:
                os.chown(workdir, uid, uid)
            files = {name: os.path.join(root, name) for name in ("program", "stdin", "stdout", "stderr")}
            with open(files["program"], "wb") as f:
                f.write(program.encode("utf-8", errors="replace"))
            with open(files["stdin"], "wb") as f:
                f.write(stdin.encode("utf-8", errors="replace"))
            exit_code, timed_out = self._launch(files, workdir, uid, isolation, timeout)
            stdout, stdout_size = read_capped(files["stdout"], self.max_output_bytes)
            stderr, stderr_size = read_capped(files["stderr"], self.max_output_bytes)
        finally:
            remove_tree(root)
        status = classify(exit_code, timed_out, stderr, max(stdout_size, stderr_size) >= self.max_file_mb * 2**20)
        truncated = max(stdout_size, stderr_size) > self.max_output_bytes
        return SandboxResult(status, stdout, stderr, exit_code, time.monotonic() - start, truncated)

    def _needed_paths(self) -> list[str]:
        paths = {os.path.realpath(self.python), os.path.dirname(os.path.realpath(sandbox_runner.__file__))}
        if os.path.realpath(self.python) == os.path.realpath(sys.executable):
            paths |= {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        return sorted(paths)

    def _launch(self, files: dict, workdir: str, uid: int | None, isolation: Isolation, timeout: float):
        env = {
            "PATH": CHILD_PATH, "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        with (
            open(files["program"], "rb") as program,
            open(files["stdin"], "rb") as stdin,
            open(files["stdout"], "wb") as stdout,
            open(files["stderr"], "wb") as stderr,
        ):
            cfg = {
                "namespaces": isolation.namespaces, "uid": uid, "workdir": workdir, "python": self.python,
                "env": env, "program_fd": program.fileno(), "cpu_seconds": self.cpu_seconds,
                "memory_mb": self.memory_mb, "max_file_mb": self.max_file_mb, "stack_mb": self.stack_mb,
                "max_processes": self.max_processes if (uid is not None or os.geteuid() != 0) else 1 << 20,
                "max_open_files": self.max_open_files, "scratch_mb": self.scratch_mb,
                "scratch_dirs": sorted({*SCRATCH_DIRS, tempfile.gettempdir()}),
                "needed_paths": self._needed_paths(),
            }
            command = [self.python, "-I", "-S", "-B", sandbox_runner.__file__, "launch", json.dumps(cfg)]
            proc = subprocess.Popen(
                command, stdin=stdin, stdout=stdout, stderr=stderr, pass_fds=(program.fileno(),), cwd=workdir,
                env=env, start_new_session=True,
            )
        timed_out = not wait_unreaped(proc, timeout)
        kill_group(proc.pid)
        proc.wait()
        if uid is not None:
            kill_user(uid)
        return proc.returncode, timed_out


def wait_unreaped(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for `proc` to exit without reaping it, so its process group id cannot be reused before we kill it."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        return bool(select.select([pidfd], [], [], timeout)[0])
    finally:
        os.close(pidfd)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_user(uid: int, patience: float = 2.0) -> None:
    """Kill every process owned by `uid` (a per-run uid, so only the run's own leftovers) until none is left."""
    deadline = time.monotonic() + patience
    while True:
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    found = True
                    os.kill(int(name), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass
        if not found or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def fresh_uid() -> int:
    """A random uid far above any real account, so each run has a user of its own."""
    return 2_000_000 + secrets.randbelow(2**31 - 2_000_002)


def read_capped(path: str, cap: int) -> tuple[str, int]:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            return f.read(cap).decode("utf-8", errors="replace"), size
    except FileNotFoundError:
        return "", 0


def remove_tree(path: str) -> None:
    def make_writable_and_retry(function, target, _):
        os.chmod(os.path.dirname(target), 0o700)
        function(target)

    shutil.rmtree(path, onerror=make_writable_and_retry)


def classify(exit_code: int | None, timed_out: bool, stderr: str, hit_file_limit: bool) -> str:
    if timed_out:
        return "timeout"
    if exit_code == sandbox_runner.SYNTAX_ERROR_EXIT:
        return "syntax_error"
    if exit_code == sandbox_runner.MEMORY_ERROR_EXIT:
        return "memory"
    if exit_code is not None and exit_code < 0:
        return {signal.SIGXCPU: "timeout", signal.SIGXFSZ: "output_limit"}.get(-exit_code, "killed")
    if hit_file_limit or "[Errno 27] File too large" in stderr:
        return "output_limit"
    if exit_code == 0:
        return "ok"
    if stderr.rstrip().endswith("MemoryError") or "Cannot allocate memory" in stderr:
        return "memory"
    return "error"


_detected: dict[tuple, Isolation] = {}
_detect_lock = threading.Lock()


def detect_isolation(python: str, namespaces: bool | None = None, separate_user: bool | None = None) -> Isolation:
    """The strongest isolation that works here (checked once per interpreter by running a tiny program)."""
    root = os.geteuid() == 0
    if separate_user and not root:
        raise ValueError("separate_user=True needs root (it switches to a fresh uid).")
    key = (python, namespaces, separate_user, os.geteuid())
    with _detect_lock:
        if key in _detected:
            return _detected[key]
        candidates = [
            Isolation(ns, user)
            for ns in ((True, False) if namespaces is None else (namespaces,))
            for user in ((root, False) if separate_user is None else (separate_user,))
        ]
        for candidate in dict.fromkeys(candidates):
            probe = Sandbox(timeout=10, python=python)
            result = probe._run("print('ok')", "", candidate, probe.timeout)
            if result.status == "ok" and result.stdout.strip() == "ok":
                if not candidate.namespaces or not candidate.separate_user:
                    logger.warning("Sandbox isolation is reduced to: %s.", candidate.describe())
                _detected[key] = candidate
                return candidate
            logger.info("Sandbox mode %s unavailable: %s", candidate.describe(), result.stderr.strip()[-300:])
        raise RuntimeError(f"No sandbox mode works with {python}: {result.stderr.strip()[-500:]}")
