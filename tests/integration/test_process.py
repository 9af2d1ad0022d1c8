"""The process model: privileges, the pid file, SIGTERM, -V."""

import os
import pwd
import signal
import subprocess

from conftest import POSHTAD, TIMEOUT, wait_for


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1:]
    raise AssertionError("no %s in /proc/%d/status" % (name, pid))


def test_workers_drop_to_user(poshtad):
    nobody = pwd.getpwnam("nobody")
    poshtad.start(workers=2, top="user nobody;")
    for pid in poshtad.workers():
        # A worker just forked may not have dropped its rights yet.
        wait_for("worker %d to drop to nobody" % pid,
                 lambda: status_field(pid, "Uid")[:2] ==
                 [str(nobody.pw_uid)] * 2)
        assert status_field(pid, "Gid")[:2] == [str(nobody.pw_gid)] * 2
    # The master keeps its rights to re-read keys and bind on SIGHUP.
    assert status_field(poshtad.proc.pid, "Uid")[0] == str(os.geteuid())
    assert os.stat(poshtad.state).st_uid == nobody.pw_uid
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("as nobody", "as nobody")


def test_unknown_user_refused(poshtad):
    r = poshtad.check(poshtad.config(top="user no-such-user-here;"))
    assert r.returncode == 0  # -t checks syntax and modules only
    poshtad.write_config(poshtad.config(top="user no-such-user-here;"))
    p = subprocess.run([POSHTAD, "-f", "-c", poshtad.conf_path],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert p.returncode == 1
    assert "user 'no-such-user-here' does not exist" in p.stderr


def test_pid_file_and_sigterm(poshtad):
    pid_file = os.path.join(poshtad.root, "poshtad.pid")
    poshtad.start()
    with open(pid_file) as f:
        assert int(f.read()) == poshtad.proc.pid
    # A second server with the same pid file refuses to start.
    p = subprocess.run([POSHTAD, "-f", "-c", poshtad.conf_path],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert p.returncode == 1
    assert "already running (pid %d" % poshtad.proc.pid in p.stderr
    assert poshtad.stop() == 0
    assert not os.path.exists(pid_file)


def test_sigterm_answers_the_line_in_flight_then_says_goodbye(poshtad):
    poshtad.start(load=("echo", "echo_filter"))
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        # "slow" parks in a filter for 200 ms: SIGTERM arrives meanwhile.
        c.sendline("slow one")
        poshtad.signal(signal.SIGTERM)
        c.expect("slow one")
        c.expect("-ERR [SHUTDOWN] server shutting down")
        c.expect_eof()
    assert poshtad.proc.wait(TIMEOUT) == 0


def test_version():
    out = subprocess.run([POSHTAD, "-V"], capture_output=True, text=True,
                         timeout=TIMEOUT).stdout
    assert out.startswith("poshtad ")
    assert "(SDK ABI 1.6)" in out
