"""sdk/examples/greylist (built out of tree against the installed SDK, like
echo) on smtp.so's smtp.rcpt hook, as RFC 6647 describes greylisting: an
unknown (client network, sender, recipient) triplet is deferred with 451
4.7.1, again on an early retry, and passes once retried after the delay;
each part of the triplet counts, the client by its /24 (/64); logged-in
and whitelisted clients pass at once; the database survives a restart;
triplets expire and the cleanup timer deletes them; bad lines in the
greylist block are reported as file:line."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from conftest import POSHTAD, TIMEOUT, wait_for
from smtp_helpers import (LISTENERS, PASSWORDS, Ctl, Env, SmtpClient,
                          check, message, smtp_config)

ALICE = "alice@example.test"
BOB = "bob@example.test"
SENDER = "sender@remote.test"
USERS = {a: PASSWORDS[a] for a in (ALICE, BOB)}


def config(poshtad, listeners=("smtp",), extra="", workers=1, **opts):
    """smtp.so's test config with greylist.so loaded. opts become the
    greylist block's directives (a list: one line per item); extra is
    appended."""
    listen = {name: dict(LISTENERS[name]) for name in listeners}
    text = smtp_config(poshtad, listen, None, workers, "info")
    load = "load storage_sqlite auth_sqlite smtp;"
    assert load in text
    text = text.replace(load, load[:-1] + " greylist;")
    block = {"delay": "500ms"}
    block.update(opts)
    lines = []
    for name, value in block.items():
        for v in value if isinstance(value, list) else [value]:
            lines.append("\t%s %s;\n" % (name, v))
    return text + "greylist {\n%s}\n" % "".join(lines) + extra


def start(poshtad, listeners=("smtp",), extra="", workers=1, **opts):
    ctl = Ctl(poshtad)
    ctl.seed(USERS, aliases=())
    poshtad.start(config(poshtad, listeners, extra, workers, **opts),
                  workers=workers)
    return Env(poshtad, ctl, workers)


def session(env, source="127.0.0.1", name="smtp", family=socket.AF_INET,
            host="127.0.0.1"):
    """A raw SMTP client connected from the source address (any 127/8
    address is ours on Linux), greeted and EHLOed."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.bind((source, 0))
    sock.connect((host, env.port(name)))
    c = SmtpClient(sock)
    c.reply().check(220)
    c.ehlo()
    return c


def attempt(env, sender=SENDER, rcpt=ALICE, source="127.0.0.1", **kw):
    """One delivery attempt that stops after RCPT: the RCPT reply."""
    with session(env, source, **kw) as c:
        c.cmd("MAIL FROM:<%s>" % sender).check(250)
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        c.quit()
    return r


def deferred(r):
    r.check(451, "4.7.1")
    assert "greylisted" in r.texts[0].lower(), r
    assert "try again later" in r.texts[0].lower(), r


def deliver(env, subject, sender=SENDER, rcpt=ALICE, source="127.0.0.1"):
    """A whole transaction; RCPT must pass."""
    with session(env, source) as c:
        c.cmd("MAIL FROM:<%s>" % sender).check(250)
        c.cmd("RCPT TO:<%s>" % rcpt).check(250, "2.1.5")
        c.cmd("DATA").check(354)
        c.send(message(subject=subject, sender=sender, to=rcpt) +
               b".\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()


def rows(poshtad):
    """The triplet table, read with Python's own sqlite3 (WAL lets us
    read while poshtad runs)."""
    db = sqlite3.connect(os.path.join(poshtad.state, "greylist.db"),
                         timeout=TIMEOUT)
    try:
        return sorted(db.execute("SELECT net, sender, rcpt, passed "
                                 "FROM triplet").fetchall())
    finally:
        db.close()


def sleep_until(t):
    time.sleep(max(0.0, t - time.monotonic()))


# Timing: an attempt's RCPT happens between the monotonic time before it
# starts and the time after it returns. A wait that must exceed a period
# counts from the latter, so a slow machine only makes it longer; where a
# test needs an attempt inside a period too, the margin is most of it.


def test_deferred_until_retried_after_the_delay(poshtad):
    env = start(poshtad, delay="1s")
    deferred(attempt(env))
    first = time.monotonic()
    # Retrying at once (well within the second) does not help, and does
    # not restart the clock.
    deferred(attempt(env))
    assert rows(poshtad) == [("127.0.0.0/24", SENDER, ALICE, 0)]
    assert env.count(ALICE) == 0
    sleep_until(first + 1.05)
    deliver(env, "after the delay")
    [msg] = env.messages(ALICE)
    assert b"Subject: after the delay" in msg
    assert rows(poshtad) == [("127.0.0.0/24", SENDER, ALICE, 1)]
    # Passed: the next message goes through at once.
    attempt(env).check(250)
    log = poshtad.log()
    assert re.search(r"greylisted net=127\.0\.0\.0/24 from=<%s> to=<%s> "
                     r"reason=new" % (SENDER, ALICE), log), log
    assert "reason=early" in log and "passed net=127.0.0.0/24" in log, log


def test_each_part_of_the_triplet_counts(poshtad):
    env = start(poshtad)
    deferred(attempt(env))
    time.sleep(0.55)
    # Past the delay: anything but this triplet is new, and deferred.
    deferred(attempt(env, sender="other@remote.test"))
    deferred(attempt(env, sender=""))
    deferred(attempt(env, rcpt=BOB))
    deferred(attempt(env, source="127.0.1.1"))
    # Another host of the same /24, and the same addresses in other case,
    # are the same triplet.
    attempt(env, source="127.0.0.9", sender="Sender@Remote.TEST",
            rcpt="ALICE@example.test").check(250)
    assert rows(poshtad) == sorted([
        ("127.0.0.0/24", SENDER, ALICE, 1),
        ("127.0.0.0/24", "other@remote.test", ALICE, 0),
        ("127.0.0.0/24", "", ALICE, 0),
        ("127.0.0.0/24", SENDER, BOB, 0),
        ("127.0.1.0/24", SENDER, ALICE, 0),
    ])


def test_netmask_is_configurable(poshtad):
    env = start(poshtad, netmask4="32")
    deferred(attempt(env, source="127.0.0.7"))
    assert rows(poshtad) == [("127.0.0.7/32", SENDER, ALICE, 0)]


def test_ipv6_client_is_its_64(poshtad):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]
    extra = ("listen smtp6 [::1]:%d {\n\tprotocol smtp;\n\trole mx;\n}\n"
             % port)
    env = start(poshtad, extra=extra)
    # Only now: start() waits for IPv4 ports alone.
    poshtad.ports["smtp6"] = port
    deferred(attempt(env, source="::1", name="smtp6",
                     family=socket.AF_INET6, host="::1"))
    assert rows(poshtad) == [("::/64", SENDER, ALICE, 0)]


def test_logged_in_and_whitelisted_clients_pass(poshtad):
    env = start(poshtad, listeners=("smtp", "smtps"),
                whitelist=["127.0.2.0/24 ::1/128", "127.0.3.4"])
    # Submission: the user is known, RFC 6647 has nothing to test.
    s = env.smtplib_ssl("smtps")
    try:
        check(s.login(ALICE, PASSWORDS[ALICE]), 235)
        check(s.mail(ALICE), 250)
        check(s.rcpt(BOB), 250, "2.1.5")
        check(s.data(message(sender=ALICE, to=BOB, subject="submitted")),
              250, "2.0.0")
        s.quit()
    finally:
        s.close()
    assert env.count(BOB) == 1
    attempt(env, source="127.0.2.9").check(250)
    attempt(env, source="127.0.3.4").check(250)
    deferred(attempt(env, source="127.0.3.5"))
    assert rows(poshtad) == [("127.0.3.0/24", SENDER, ALICE, 0)]


def test_passed_triplet_survives_a_restart(poshtad):
    # Two workers: both create the database at once, and a retry may
    # reach the other one.
    env = start(poshtad, workers=2)
    deferred(attempt(env))
    deferred(attempt(env, rcpt=BOB))
    time.sleep(0.55)
    attempt(env).check(250)
    poshtad.stop()
    env.restart()
    attempt(env).check(250)
    # The pending one kept its first-seen time too: past the delay.
    attempt(env, rcpt=BOB).check(250)


def test_retry_after_the_window_starts_over(poshtad):
    env = start(poshtad, delay="300ms", retry_window="1s")
    deferred(attempt(env))
    time.sleep(1.35)
    # Too late: a new first attempt, with a new clock...
    deferred(attempt(env))
    time.sleep(0.35)
    # ...so a retry now is within its window (for about 1 s more).
    attempt(env).check(250)


def test_expired_triplet_is_greylisted_again(poshtad):
    env = start(poshtad, delay="200ms", expire="1500ms")
    deferred(attempt(env))
    time.sleep(0.25)
    attempt(env).check(250)
    passed = time.monotonic()
    # Seen within expire (0.6 s to spare), it passes and is refreshed...
    sleep_until(passed + 0.9)
    attempt(env).check(250)
    # ...so it still passes more than expire after it passed (0.85 s to
    # spare)...
    sleep_until(passed + 1.55)
    attempt(env).check(250)
    # ...but not once unseen for longer than expire.
    time.sleep(1.55)
    deferred(attempt(env))
    assert rows(poshtad) == [("127.0.0.0/24", SENDER, ALICE, 0)]
    assert poshtad.log().count("reason=new") == 2, poshtad.log()


def test_cleanup_deletes_expired_triplets(poshtad):
    env = start(poshtad, delay="100ms", retry_window="1s", expire="1s",
                cleanup_interval="100ms")
    deferred(attempt(env))
    deferred(attempt(env, rcpt=BOB))
    time.sleep(0.15)
    attempt(env).check(250)
    # Both rows live for about 1 s more; then the timer's job goes.
    assert len(rows(poshtad)) == 2
    wait_for("the cleanup", lambda: rows(poshtad) == [], timeout=5)
    poshtad.wait_log(r"cleanup deleted=\d")


# ---- Configuration -----------------------------------------------------

def line_of(text, needle):
    return text.splitlines().index(needle) + 1


@pytest.mark.parametrize("directive", ["netmask4 33", "netmask6 129",
                                       "delay 2 fortnights"])
def test_bad_value_is_file_line(poshtad, directive):
    name, value = directive.split(" ", 1)
    text = config(poshtad, **{name: value})
    r = poshtad.check(text)
    assert r.returncode == 1, r
    at = line_of(text, "\t%s;" % directive)
    assert "%s:%d: %s" % (poshtad.conf_path, at, name) in r.stderr, (
        r.stderr)


@pytest.mark.parametrize("entry,why", [
    ("10.0.0.0/33", "prefix length must be 0 to 32"),
    ("2001:db8::/129", "prefix length must be 0 to 128"),
    ("10.1.2.3/8", "address bits set past the /8 prefix"),
    ("mail.example/8", "not an IPv4 or IPv6 network"),
])
def test_bad_whitelist_entry_is_file_line(poshtad, entry, why):
    """The core checks only that these are words; greylist.so checks
    what they mean in worker_init (which -t does not reach) and stops the
    worker with a file:line message."""
    text = config(poshtad, whitelist="127.0.2.0/24 " + entry)
    poshtad.write_config(text)
    at = line_of(text, "\twhitelist 127.0.2.0/24 %s;" % entry)
    with open(poshtad.log_path, "ab") as log:
        proc = subprocess.Popen([POSHTAD, "-f", "-c", poshtad.conf_path],
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        poshtad.wait_log(re.escape("%s:%d: whitelist: '%s'" % (
            poshtad.conf_path, at, entry)) + r".*" + re.escape(why),
            timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(TIMEOUT)


def test_links_only_libc_and_sqlite(sdk):
    def nm(*opts):
        out = subprocess.run(["nm", "-D", *opts, sdk.module("greylist")],
                             capture_output=True, text=True, timeout=30,
                             check=True).stdout
        return [line.split() for line in out.splitlines()]
    assert [f[-1] for f in nm("--defined-only")] == ["poshta_module"]
    for fields in nm("--undefined-only"):
        kind, sym = fields[-2], fields[-1]
        assert (kind == "w" or "@GLIBC_" in sym
                or sym.startswith("sqlite3_")), sym
