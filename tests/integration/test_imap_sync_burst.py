"""A burst of flag changes by another session (STORE 1:* on thousands of
messages) reaches a selected session as one unsolicited FETCH per
message (RFC 9051 7.5.2), every one before the tagged reply (or, in
IDLE, at once), and in steps the client reads one after the other: a client that does not read
holds the server to a bounded amount of memory, whatever the burst. New
and expunged messages found in the same sync are told as usual.

A server of its own (one worker, so its memory is the one measured)."""

import os
import re
import time

import pytest

from conftest import rss_kib, sanitized
from imap_helpers import shared_imap

N = 6000
KEYWORDS = ["$Label%02d_%s" % (i, "x" * 30) for i in range(20)]


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory)


def import_messages(env, user, n):
    path = os.path.join(env.poshtad.root, "burst.mbox")
    with open(path, "w") as f:
        for i in range(n):
            f.write("From s@remote.test Mon Jan  1 00:00:00 2024\n"
                    "Subject: %d\n\nbody %d\n\n" % (i, i))
    env.ctl.ok("import-mbox", user, path)


def read_to(r, tag, worker):
    """Everything up to tag's reply, read 64 KiB at a time, with the
    highest RSS of worker seen meanwhile."""
    data, peak, end = r.lc.buf, 0, b"\r\n" + tag.encode() + b" "
    r.lc.buf = b""
    while not (end in data[-200:] and data.endswith(b"\r\n")):
        chunk = r.lc.sock.recv(65536)
        assert chunk, "connection closed"
        data += chunk
        peak = max(peak, rss_kib(worker))
    return data, peak


def test_flag_burst_is_told_in_bounded_steps(env):
    user = env.new_user()
    import_messages(env, user, N)
    workers = env.poshtad.workers()
    assert len(workers) == 1, workers
    a, b = env.login(user), env.login(user)
    lines = a.ok("SELECT INBOX")
    assert b"* %d EXISTS" % N in lines
    b.ok("SELECT INBOX")
    b.ok("STORE 1:* +FLAGS.SILENT (%s)" % " ".join(KEYWORDS))
    # Also a message gone and one come, for the same sync to tell.
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    text = "Subject: new\r\n\r\nnew\r\n"
    b.ok("APPEND INBOX {%d+}\r\n%s" % (len(text), text))
    base = rss_kib(workers[0])
    # The client sends NOOP and reads nothing for a while: the server
    # must wait for it rather than queue the whole burst.
    a.send("n1 NOOP\r\n")
    time.sleep(1.0)
    stalled = rss_kib(workers[0])
    data, peak = read_to(a, "n1", workers[0])
    lines = data.split(b"\r\n")
    assert lines[-2] == b"n1 OK NOOP completed", lines[-3:]
    # As a client keeps its numbers: UIDs by position, an EXPUNGE takes
    # one out, EXISTS adds the new one (UID N + 1).
    uids, fetched = list(range(1, N + 1)), {}
    for line in lines:
        m = re.match(rb"\* (\d+) (FETCH|EXPUNGE|EXISTS)(.*)$", line)
        if not m:
            continue
        n, what = int(m.group(1)), m.group(2)
        if what == b"EXPUNGE":
            del uids[n - 1]
        elif what == b"EXISTS":
            uids.append(N + 1)
            assert len(uids) == n
        else:
            flags = re.match(rb" \(FLAGS \(([^)]*)\)\)$", m.group(3))
            uid = uids[n - 1]
            assert uid not in fetched, "FETCH twice for UID %d" % uid
            fetched[uid] = flags.group(1).split()
    # Each of the N messages had its flags changed; the second is gone.
    # Every other one is told exactly once, with all keywords.
    assert b"* 2 EXPUNGE" in lines and b"* %d EXISTS" % N in lines
    assert sorted(fetched) == [1] + list(range(3, N + 1))
    for flags in fetched.values():
        assert [k.decode() for k in flags if k != b"\\Recent"] == KEYWORDS
    # About 5 MB of FETCH responses went out; the worker held a few
    # steps of them at a time, not the whole burst, twice.
    size = sum(len(line) for line in lines if b" FETCH " in line)
    assert size > 4 << 20, size
    grown = max(stalled, peak) - base
    # AddressSanitizer's quarantine keeps freed memory: no bound there.
    if not sanitized():
        assert grown < 3 * 1024, "worker grew by %d KiB" % grown
    # In IDLE the same, as soon as the change is announced (RFC 2177).
    a.send("i1 IDLE\r\n")
    assert a.line().startswith(b"+ ")
    b.ok("STORE 1:* -FLAGS.SILENT (%s)" % KEYWORDS[0])
    told = set()
    while len(told) < N - 1:  # the new message had no keyword to lose
        m = re.match(rb"\* (\d+) FETCH \(FLAGS \(([^)]*)\)\)$", a.line())
        assert m and KEYWORDS[0].encode() not in m.group(2).split()
        assert int(m.group(1)) not in told
        told.add(int(m.group(1)))
    a.send("DONE\r\n")
    assert a.until("i1") == ([], b"i1 OK Idle completed")
    a.close()
    b.close()
