"""The child side of the sandbox: a standalone script the parent starts as `python -I -S -B sandbox_runner.py launch CFG`.

It never imports `trl_vpd` (it runs with `-I`, so neither its own folder nor the user's site directory is on
`sys.path`), and it runs in two stages:

* `launch` (trusted, privileged as the parent): enter fresh network, PID and mount namespaces where the kernel
  allows it (with a user namespace when not root), fork the namespace's init, give it a fresh `/proc` and
  private size-limited tmpfs mounts over the working directory and the world-writable scratch directories,
  drop to the sandbox user, set `no_new_privs`, and `execve` the `run` stage. When the namespaced init exits,
  the kernel kills every process left in its PID namespace, so nothing the program started can outlive it.
* `run` (already unprivileged): set the resource limits, install the audit-hook guards (no writes outside the
  working directory, no network; in the weaker, namespace-less mode also no new processes, no signals to other
  processes and no `ctypes`), then compile and execute the program read from a file descriptor.

Exit codes 211 (syntax error), 212 (memory error) and 213 (sandbox setup failed) tell the parent what happened.
"""

from __future__ import annotations

import json
import os
import signal
import sys

SYNTAX_ERROR_EXIT = 211
MEMORY_ERROR_EXIT = 212
SETUP_ERROR_EXIT = 213
PROGRAM_NAME = "solution.py"

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 1, 38, 24, 28
SECBIT_NOROOT_ALL = 0x3 | 0xC | 0x30  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED with their locks


def main() -> None:
    stage, cfg = sys.argv[1], json.loads(sys.argv[2])
    if stage == "launch":
        launch(cfg)
    else:
        run(cfg)


def fail_setup(message: str) -> None:
    os.write(2, f"sandbox setup failed: {message}\n".encode())
    os._exit(SETUP_ERROR_EXIT)


def launch(cfg: dict) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    unprivileged = os.geteuid() != 0

    def check(result: int, what: str) -> None:
        if result != 0:
            fail_setup(f"{what}: {os.strerror(ctypes.get_errno())}")

    if not cfg["namespaces"]:
        become_sandbox_user(cfg, libc, unprivileged=False)

    uid, gid = os.geteuid(), os.getegid()
    read_end, write_end = os.pipe()
    check(libc.unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS | (CLONE_NEWUSER if unprivileged else 0)), "unshare")
    if unprivileged:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    init = os.fork()
    if init == 0:
        os.close(read_end)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        mount_private_filesystems(cfg, libc, check)
        program = os.fork()
        if program == 0:
            os.close(write_end)
            become_sandbox_user(cfg, libc, unprivileged=unprivileged)
        os.closerange(0, write_end)
        _, status = os.waitpid(program, 0)
        os.write(write_end, str(status).encode())
        os._exit(0)
    os.close(write_end)
    os.closerange(3, read_end)
    os.waitpid(init, 0)
    with os.fdopen(read_end, "rb") as f:
        reported = f.read()
    if not reported:
        fail_setup("the namespace init died")
    relay_exit(int(reported))


def mount_private_filesystems(cfg: dict, libc, check) -> None:
    """A fresh `/proc` for the new PID namespace, and tmpfs mounts that vanish with the mount namespace."""
    import ctypes

    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    check(mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making / private")
    check(mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mounting /proc")
    if cfg.get("uid") is not None:
        expose_to_other_users(cfg["needed_paths"], mount, check)
    options = f"size={cfg['scratch_mb']}m,mode=1777".encode()
    for path in cfg["scratch_dirs"]:
        if os.path.isdir(path) and not os.path.islink(path):
            check(mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), f"mounting {path}")
    workdir = cfg["workdir"]
    if not os.path.isdir(workdir):
        os.makedirs(workdir, mode=0o755)
    options = f"size={cfg['scratch_mb']}m,mode=700".encode()
    check(mount(b"tmpfs", workdir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), "mounting the working directory")


def expose_to_other_users(paths: list[str], mount, check) -> None:
    """Make the interpreter reachable for the sandbox's uid when it lies under a closed directory (e.g. `/root`).

    The closed directory is covered by an empty tmpfs that anyone may traverse, and only the entries on the way to
    the needed paths are bound back into it, so the rest of the closed directory stays hidden.
    """
    needed: dict[str, dict[str, int]] = {}
    for path in paths:
        parts = [p for p in path.split("/") if p]
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            if ancestor in needed or not os.stat(ancestor).st_mode & 0o001:
                children = needed.setdefault(ancestor, {})
                child = f"{ancestor}/{parts[depth]}"
                if child not in children:
                    children[child] = os.open(child, os.O_PATH)
                break
    for ancestor, children in needed.items():
        check(mount(b"tmpfs", ancestor.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=711"), f"covering {ancestor}")
        for child, fd in children.items():
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.mkdir(child)
            else:
                open(child, "w").close()
            check(mount(f"/proc/self/fd/{fd}".encode(), child.encode(), None, MS_BIND | MS_REC, None), f"exposing {child}")
            os.close(fd)


def relay_exit(status: int) -> None:
    """Leave with the program's wait status, so the parent sees its exit code or the signal that ended it."""
    if os.WIFSIGNALED(status):
        import resource

        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status))


def become_sandbox_user(cfg: dict, libc, *, unprivileged: bool) -> None:
    import resource

    workdir = cfg["workdir"]
    uid = cfg.get("uid")
    try:
        if uid is not None:
            os.chown(workdir, uid, uid)
        os.chdir(workdir)
    except OSError as e:
        fail_setup(f"working directory: {e}")
    stack = cfg["stack_mb"] * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if hard == resource.RLIM_INFINITY or hard >= stack:
        resource.setrlimit(resource.RLIMIT_STACK, (stack, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if uid is not None:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        except OSError as e:
            fail_setup(f"switching to uid {uid}: {e}")
    elif unprivileged:
        for cap in range(64):
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        libc.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT_ALL, 0, 0, 0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail_setup("no_new_privs")
    python = cfg["python"]
    try:
        os.execve(python, [python, "-I", "-B", os.path.abspath(__file__), "run", json.dumps(cfg)], cfg["env"])
    except OSError as e:
        fail_setup(f"cannot start {python}: {e}")


def run(cfg: dict) -> None:
    import builtins
    import linecache
    import resource
    import traceback

    limits = {
        resource.RLIMIT_CPU: (cfg["cpu_seconds"], cfg["cpu_seconds"] + 1),
        resource.RLIMIT_AS: (cfg["memory_mb"] * 2**20,) * 2,
        resource.RLIMIT_FSIZE: (cfg["max_file_mb"] * 2**20,) * 2,
        resource.RLIMIT_NPROC: (cfg["max_processes"],) * 2,
        resource.RLIMIT_NOFILE: (cfg["max_open_files"],) * 2,
    }
    for which, value in limits.items():
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError):
            resource.setrlimit(which, (min(value[0], resource.getrlimit(which)[1]), resource.getrlimit(which)[1]))

    with os.fdopen(cfg["program_fd"], "rb") as f:
        source = f.read().decode("utf-8", errors="replace")
    linecache.cache[PROGRAM_NAME] = (len(source), None, source.splitlines(keepends=True), PROGRAM_NAME)
    install_guards(os.getcwd(), contained=cfg["namespaces"])
    sys.dont_write_bytecode = True
    sys.argv = [PROGRAM_NAME]
    sys.path.insert(0, os.getcwd())

    try:
        code = compile(source, PROGRAM_NAME, "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))
        sys.stderr.flush()
        os._exit(SYNTAX_ERROR_EXIT)

    namespace = {"__name__": "__main__", "__file__": PROGRAM_NAME, "__builtins__": builtins}
    exit_code = 0
    try:
        exec(code, namespace)
    except SystemExit as e:
        exit_code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, (int, type(None))):
            sys.stderr.write(f"{e.code}\n")
    except MemoryError:
        exit_code = MEMORY_ERROR_EXIT
        sys.stderr.write("MemoryError\n")
    except BaseException as e:
        exit_code = 1
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename != __file__]
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
        sys.stderr.write(text + "".join(traceback.format_exception_only(type(e), e)))
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(exit_code)


def install_guards(workdir: str, *, contained: bool) -> None:
    """Audit hooks: a best-effort second line behind the kernel's isolation, the only line where that is missing.

    Audit hooks cannot be removed once installed, but native code (`ctypes`, extension modules) and other
    executables bypass them; hence `ctypes` and new processes are refused where no PID namespace contains them.
    """
    import socket

    root = os.path.realpath(workdir)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    allowed_devices = {"/dev/null", "/dev/stdout", "/dev/stderr"}
    path_events = {
        "os.remove": 1, "os.rename": 2, "os.rmdir": 1, "os.mkdir": 1, "os.symlink": 2, "os.link": 2, "os.chmod": 1,
        "os.chown": 1, "os.truncate": 1, "os.utime": 1, "os.mkfifo": 1, "os.mknod": 1, "shutil.rmtree": 1,
    }
    net_events = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"}
    process_events = {
        "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "os.system", "subprocess.Popen",
        "os.startfile", "pty.spawn", "ctypes.dlopen", "os.setns", "os.unshare",
    }
    my_pid = os.getpid()

    def inside(path) -> bool:
        if isinstance(path, int) or path is None:
            return True
        path = os.fsdecode(path)
        real = os.path.realpath(os.path.join(root, path))
        return real == root or real.startswith(root + os.sep) or real in allowed_devices

    def other_process(path) -> bool:
        if isinstance(path, int) or path is None:
            return False
        parts = os.path.realpath(os.path.join(root, os.fsdecode(path))).split("/")
        return len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) != my_pid

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if not contained and other_process(path):
                raise PermissionError("sandbox: reading other processes' /proc entries is not allowed")
            writing = (mode is not None and any(c in str(mode) for c in "wax+")) or (mode is None and flags & write_flags)
            if writing and not inside(path):
                raise PermissionError(f"sandbox: writing outside the working directory is not allowed: {path!r}")
        elif event in path_events:
            for path in args[: path_events[event]]:
                if not inside(path):
                    raise PermissionError(f"sandbox: changing files outside the working directory is not allowed: {path!r}")
        elif event in net_events:
            if getattr(args[0], "family", None) in (socket.AF_INET, socket.AF_INET6):
                raise PermissionError("sandbox: network access is disabled")
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
            raise PermissionError("sandbox: network access is disabled")
        elif not contained:
            if event in process_events:
                raise PermissionError(f"sandbox: {event} is not allowed")
            if event in ("os.kill", "os.killpg") and not (event == "os.kill" and args[0] == my_pid):
                raise PermissionError("sandbox: signalling other processes is not allowed")

    sys.addaudithook(hook)


if __name__ == "__main__":
    main()
