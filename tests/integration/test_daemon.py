"""poshtad without -f: the command returns once the server has detached,
the pid file names the detached master, and SIGTERM to that pid stops it
and removes the pid file. A detached server still finds its files (the
config for SIGHUP, the pid file) when they were given by relative paths.

The detached master is reparented away from us, so it is watched through
/proc and the pid file; teardown kills whatever is left."""

import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import POSHTAD, TIMEOUT, children, listening, quote, wait_for


def alive(pid):
    """Whether pid runs (a zombie nobody reaps yet counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def read_pid(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    return int(text) if text.strip().isdigit() else None


def greeting(port):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        data = b""
        while b"\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace").strip()


class Daemon:
    """Runs `poshtad -c PATH` (no -f) and cleans up after it."""

    def __init__(self, root):
        self.root = root
        self.pid_files = []
        self.pids = set()

    def run(self, conf, pid_file, cwd=None):
        self.pid_files.append(pid_file)
        began = time.monotonic()
        r = subprocess.run([POSHTAD, "-c", conf], cwd=cwd or self.root,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=TIMEOUT)
        return r, time.monotonic() - began

    def track(self, pid):
        self.pids.add(pid)
        if alive(pid):
            self.pids.update(children(pid))

    def cleanup(self):
        for path in self.pid_files:
            pid = read_pid(path)
            if pid:
                self.track(pid)
        for pid in sorted(self.pids):
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid in self.pids:
            wait_for("pid %d to die" % pid, lambda: not alive(pid))


@pytest.fixture
def daemon(poshtad):
    d = Daemon(poshtad.root)
    yield d
    d.cleanup()


def test_detach_pid_file_and_sigterm(poshtad, daemon):
    pid_file = os.path.join(poshtad.root, "poshtad.pid")
    poshtad.write_config(poshtad.config(workers=2))
    r, took = daemon.run(poshtad.conf_path, pid_file)
    assert r.returncode == 0, r.stdout + r.stderr
    assert took < 5, "poshtad took %.1f s to return" % took

    pid = wait_for("the pid file", lambda: read_pid(pid_file))
    daemon.track(pid)
    assert alive(pid), "pid file names %d, which is not running" % pid
    # Not the process we ran: that one has exited, the daemon is its child.
    assert os.getsid(pid) == pid, "the daemon did not start a new session"
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert f.read().split(b"\0")[0] == POSHTAD.encode()
    for fd in (0, 1, 2):
        assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == "/dev/null"

    port = poshtad.ports["echo"]
    wait_for("the listener", lambda: listening(port))
    workers = wait_for("two workers",
                       lambda: len(children(pid)) == 2 and children(pid))
    daemon.pids.update(workers)
    assert greeting(port) == "+OK Poshta echo ready"

    os.kill(pid, signal.SIGTERM)
    wait_for("the daemon to stop", lambda: not alive(pid))
    wait_for("its workers to stop",
             lambda: not any(alive(w) for w in workers))
    wait_for("the pid file to go", lambda: not os.path.exists(pid_file))
    assert not listening(port)


def test_second_daemon_refused(poshtad, daemon):
    pid_file = os.path.join(poshtad.root, "poshtad.pid")
    poshtad.write_config(poshtad.config())
    r, _ = daemon.run(poshtad.conf_path, pid_file)
    assert r.returncode == 0, r.stderr
    pid = wait_for("the pid file", lambda: read_pid(pid_file))
    daemon.track(pid)
    # Checked before detaching, so the error reaches the terminal.
    r, took = daemon.run(poshtad.conf_path, pid_file)
    assert r.returncode == 1
    assert "already running (pid %d" % pid in r.stderr
    assert read_pid(pid_file) == pid and alive(pid)


def test_relative_config_path_survives_detaching(poshtad, daemon):
    """`cd /etc/poshta && poshtad -c poshta.conf`: SIGHUP must re-read
    that file, not one relative to wherever the daemon went."""
    pid_file = os.path.join(poshtad.root, "poshtad.pid")
    body = "echo {\n\tgreeting %s;\n}"
    poshtad.write_config(poshtad.config(body=body % quote("one")))
    r, _ = daemon.run("poshta.conf", pid_file, cwd=poshtad.root)
    assert r.returncode == 0, r.stderr
    pid = wait_for("the pid file", lambda: read_pid(pid_file))
    daemon.track(pid)
    port = poshtad.ports["echo"]
    wait_for("the listener", lambda: listening(port))
    assert greeting(port) == "+OK one"

    poshtad.write_config(poshtad.config(body=body % quote("two")))
    os.kill(pid, signal.SIGHUP)
    try:
        wait_for("the reloaded greeting", lambda: greeting(port) == "+OK two",
                 timeout=5)
    except AssertionError:
        raise AssertionError(
            "SIGHUP did not apply %s/poshta.conf to a daemon started with "
            "-c poshta.conf (greeting still %r)"
            % (poshtad.root, greeting(port))) from None
    assert alive(pid)


def test_relative_pid_file_lands_beside_config(poshtad, daemon):
    """A relative pid_file is relative to the config file's folder, also
    for a daemon started with a relative -c path."""
    sub = "run-%d" % os.getpid()
    os.makedirs(os.path.join(poshtad.root, sub))
    pid_file = os.path.join(poshtad.root, sub, "poshtad.pid")
    text = poshtad.config().replace(
        "pid_file %s;" % quote(os.path.join(poshtad.root, "poshtad.pid")),
        "pid_file %s;" % quote(sub + "/poshtad.pid"))
    assert quote(sub + "/poshtad.pid") in text
    poshtad.write_config(text)
    # The same file, checked in place, resolves the path there.
    assert subprocess.run([POSHTAD, "-t", "-c", "poshta.conf"],
                          cwd=poshtad.root, capture_output=True,
                          timeout=TIMEOUT).returncode == 0
    r, _ = daemon.run("poshta.conf", pid_file, cwd=poshtad.root)
    assert r.returncode == 0, r.stderr
    port = poshtad.ports["echo"]
    try:
        pid = wait_for("the pid file", lambda: read_pid(pid_file),
                       timeout=5)
    except AssertionError:
        raise AssertionError(
            "no pid file at %s from a daemon started with -c poshta.conf "
            "and pid_file %s; listening: %s"
            % (pid_file, sub + "/poshtad.pid", listening(port))) from None
    daemon.track(pid)
    wait_for("the listener", lambda: listening(port))
    assert greeting(port) == "+OK Poshta echo ready"
