"""Hostile programs against the sandbox, in the strongest mode available here and in the namespace-less fallback.

Each test ends within its limit, gives reward 0 with feedback naming the failure, and leaves no process, file or
temporary directory behind. Tests share no state (each gets its own temp root and marker), so they run in
parallel under pytest-xdist (`-n`).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid

import psutil
import pytest

from trl_vpd.verifiers import CodeVerifier, Sandbox

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 2.0


@pytest.fixture(params=["auto", "no_namespaces"])
def sandbox(request, tmp_path, monkeypatch):
    root = tmp_path / "sandbox-root"
    root.mkdir(mode=0o755)
    os.chmod(tmp_path, 0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    box = Sandbox(timeout=TIMEOUT, memory_mb=256, workers=2, namespaces=None if request.param == "auto" else False)
    yield box
    box.close()
    assert os.listdir(root) == [], "the run's temporary directory was not removed"


@pytest.fixture
def marker():
    return f"trl-vpd-marker-{uuid.uuid4().hex}"


def judge(sandbox: Sandbox, program: str, expected: str = "done") -> tuple[float, str, float]:
    verifier = CodeVerifier(sandbox=sandbox)
    start = time.monotonic()
    reward = verifier.reward_func(["p"], [f"```python\n{program}\n```"], tests=[[{"input": "", "output": expected}]])
    feedback = verifier.feedback_func(["p"], [f"```python\n{program}\n```"], tests=[[{"input": "", "output": expected}]])
    assert verifier.executions == 1
    return reward[0], feedback[0], time.monotonic() - start


def processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


def assert_nothing_left(marker: str | None = None) -> None:
    deadline = time.monotonic() + 1.0
    while psutil.Process().children(recursive=True) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert psutil.Process().children(recursive=True) == []
    if marker is not None:
        assert processes_with(marker) == []


def assert_unharmed(sandbox: Sandbox) -> None:
    assert psutil.Process().status() != psutil.STATUS_ZOMBIE
    result = sandbox.run("print(input())", "still fine\n")
    assert (result.status, result.stdout) == ("ok", "still fine\n")


def test_isolation_mode_is_reported(sandbox):
    assert sandbox.isolation.describe()
    if sandbox._requested[0] is False:
        assert not sandbox.isolation.namespaces


def test_infinite_loop(sandbox):
    reward, feedback, elapsed = judge(sandbox, "while True:\n    pass")
    assert reward == 0.0
    assert "Test 1: Time limit exceeded (2 s)." in feedback
    assert elapsed < TIMEOUT + 2
    assert_nothing_left()
    assert_unharmed(sandbox)


def test_fork_bomb(sandbox):
    reward, feedback, elapsed = judge(sandbox, "import os\nwhile True:\n    os.fork()")
    assert reward == 0.0
    assert "Runtime error" in feedback or "Time limit exceeded" in feedback
    assert ("BlockingIOError" in feedback) or ("os.fork is not allowed" in feedback) or "Time limit" in feedback
    assert elapsed < TIMEOUT + 3
    assert_nothing_left()
    assert_unharmed(sandbox)


@pytest.mark.parametrize("program", ["x = bytearray(8 * 2**30)", "x = []\nwhile True:\n    x.append(bytes(2**24))"])
def test_memory_bomb(sandbox, program):
    reward, feedback, elapsed = judge(sandbox, program)
    assert reward == 0.0
    assert "Test 1: Memory limit exceeded (256 MB)." in feedback
    assert elapsed < TIMEOUT + 2
    assert_nothing_left()
    assert_unharmed(sandbox)


def test_huge_output(sandbox):
    reward, feedback, elapsed = judge(sandbox, "while True:\n    print('x' * 10000)")
    assert reward == 0.0
    assert "Test 1: Output limit exceeded." in feedback
    assert elapsed < TIMEOUT + 2
    result = sandbox.run("while True:\n    print('x' * 10000)")
    assert result.status == "output_limit"
    assert len(result.stdout) == sandbox.max_output_bytes and result.truncated
    assert_nothing_left()


def test_writing_outside_the_temp_dir(sandbox, tmp_path, marker):
    targets = [tmp_path / f"{marker}.txt", f"/tmp/{marker}.txt", f"/var/tmp/{marker}.txt"]
    program = "\n".join(f"open({str(t)!r}, 'w').write('pwned')" for t in targets) + "\nprint('done')"
    reward, feedback, _ = judge(sandbox, program)
    assert reward == 0.0
    assert "Runtime error" in feedback and "PermissionError" in feedback
    bypass = "import subprocess\n" + "\n".join(f"subprocess.run(['sh', '-c', 'echo pwned > {t}'])" for t in targets)
    sandbox.run(bypass)
    assert not any(os.path.exists(t) for t in targets)
    assert_nothing_left()
    assert_unharmed(sandbox)


@pytest.mark.parametrize("how", ["new_session", "double_fork"])
def test_background_process(sandbox, marker, how):
    sleeper = f"[sys.executable, '-c', 'import time; time.sleep(1000)', {marker!r}]"
    programs = {
        "new_session": f"import subprocess, sys\nsubprocess.Popen({sleeper}, start_new_session=True)\nprint('spawned')",
        "double_fork": (
            "import os, sys\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            f"        os.execv(sys.executable, {sleeper})\n"
            "    os._exit(0)\n"
            "os.wait()\n"
            "print('spawned')"
        ),
    }
    reward, feedback, elapsed = judge(sandbox, programs[how])
    assert reward == 0.0
    assert "Wrong answer" in feedback or "is not allowed" in feedback
    assert elapsed < TIMEOUT + 2
    assert_nothing_left(marker)
    assert_unharmed(sandbox)


def test_environment_is_not_inherited(sandbox, marker, monkeypatch):
    monkeypatch.setenv("TRL_VPD_TEST_SECRET", marker)
    program = (
        "import os\n"
        "print(os.environ.get('TRL_VPD_TEST_SECRET'))\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        if b'TRL_VPD_TEST_SECRET' in open(f'/proc/{pid}/environ', 'rb').read():\n"
        "            print('FOUND', pid)\n"
        "    except Exception:\n"
        "        pass\n"
    )
    reward, feedback, _ = judge(sandbox, program, expected=marker)
    assert reward == 0.0
    assert "Wrong answer" in feedback and "Your output:\nNone" in feedback
    result = sandbox.run(program)
    assert result.status == "ok"
    assert marker not in result.stdout and "FOUND" not in result.stdout
    assert_unharmed(sandbox)


def test_network_socket(sandbox):
    program = "import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('1.1.1.1', 53))\nprint('done')"
    reward, feedback, elapsed = judge(sandbox, program)
    assert reward == 0.0
    assert "Runtime error" in feedback and "network access is disabled" in feedback
    raw = "import socket; s = socket.socket(); s.settimeout(1); s.connect(('1.1.1.1', 53)); print('connected')"
    bypass = f"import subprocess, sys\nprint(subprocess.run([sys.executable, '-c', {raw!r}], capture_output=True, text=True))"
    result = sandbox.run(bypass)
    assert "connected" not in result.stdout.replace("'connected'", "")
    assert "Network is unreachable" in result.stdout or "not allowed" in result.stderr
    assert_nothing_left()


def test_killing_the_parent(sandbox):
    reward, feedback, _ = judge(sandbox, "import os\nos.kill(os.getppid(), 9)\nos.kill(0, 9)\nos.kill(-1, 9)\nprint('done')")
    assert reward == 0.0
    assert "Runtime error" in feedback or "Killed" in feedback
    assert_nothing_left()
    assert_unharmed(sandbox)


def test_parallel_runs_are_bounded_and_ordered(sandbox):
    results = sandbox.map([(f"print({i} * {i})", "") for i in range(6)])
    assert [r.stdout for r in results] == [f"{i * i}\n" for i in range(6)]
    assert sandbox._executor._max_workers == 2


def test_syntax_error_and_exit_codes(sandbox):
    assert sandbox.run("def f(:\n    pass").status == "syntax_error"
    assert (sandbox.run("import sys; sys.exit(3)").status, sandbox.run("import sys; sys.exit(3)").exit_code) == ("error", 3)
    assert sandbox.run("import sys; sys.exit(0)").status == "ok"
