"""pop3.so's commands in the TRANSACTION state (RFC 1939 5, 7): STAT,
LIST, RETR, TOP, UIDL, DELE, RSET, NOOP with their exact response
syntax; octet counts that equal what RETR sends before byte-stuffing;
byte-stuffing of lines that start with "."; message numbers that do not
exist or are deleted; commands in any case; CAPA (RFC 2449); the bad
command limit; PIPELINING (100 RETRs in one write); a 20 MB RETR with
flat memory; poplib and curl as real clients.

One server for the module; every test has users of its own."""

import hashlib
import re
import subprocess
import time

import pytest

from conftest import rss_kib, sanitized
from pop3_helpers import (UIDL, crlf, listing, message, shared_pop3,
                          stuff, unstuff)

SCAN = re.compile(r"^\+OK (\d+) (\d+)( .*)?$")

# Messages with CRLF line ends, appended through IMAP as exact octets.
M_PLAIN = crlf("From: bob@example.test\nTo: alice@example.test\n"
               "Subject: plain\n\nLine one\nLine two\n\nLine four\n")
M_DOTS = crlf("From: bob@example.test\nSubject: dots\n\n"
              ".leading dot\n..two dots\n.\nnot a dot\n. space\n"
              "last.\n")
M_EMPTY_BODY = crlf("From: bob@example.test\nSubject: empty body\n\n")
M_FOLDED = crlf("From: bob@example.test\nSubject: folded\n header\n"
                "X-Other: x\n\nbody 1\nbody 2\nbody 3\n")


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_pop3(sdk, certs, tmp_path_factory,
                           listeners=("pop3", "imap", "smtp"))


def filled(env, *msgs):
    """A new user whose INBOX holds msgs (in order)."""
    user = env.new_user()
    if msgs:
        env.append(user, *msgs)
    return user


def stat(c):
    m = SCAN.match(c.ok("STAT"))
    assert m, "STAT syntax"
    return int(m.group(1)), int(m.group(2))


def retr(c, n):
    """RETR n: the message as sent (still stuffed); the status line must
    be "+OK <size> octets" (the spec's form)."""
    status, raw = c.multi("RETR %d" % n)
    assert raw is not None, status
    size = len(unstuff(raw))
    assert status == "+OK %d octets" % size, status
    return raw


# ---- CAPA ---------------------------------------------------------------

def test_greeting_and_capa(env):
    c = env.raw()
    caps, lines = c.capa()
    for word in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE",
                 "PIPELINING", "STLS"):
        assert word in caps and caps[word] == [], (word, lines)
    assert sorted(caps["SASL"]) == ["LOGIN", "PLAIN"], lines
    assert caps["IMPLEMENTATION"][:1] == ["Poshta"], lines
    # RFC 6856 2: "UTF8 USER" when USER accepts UTF-8 names.
    assert caps["UTF8"] == ["USER"], lines
    assert caps.keys() <= {"TOP", "UIDL", "USER", "SASL", "RESP-CODES",
                           "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION",
                           "STLS", "UTF8", "EXPIRE", "LOGIN-DELAY"}, lines
    c.quit()


def test_capa_in_transaction(env):
    """RFC 2449 5: CAPA works in TRANSACTION too; STLS is gone (RFC 2595
    4: only in AUTHORIZATION)."""
    user = filled(env)
    c = env.login(user)
    caps, lines = c.capa()
    for word in ("TOP", "UIDL", "PIPELINING", "RESP-CODES"):
        assert word in caps, (word, lines)
    assert "STLS" not in caps, lines
    assert stat(c) == (0, 0)  # still in TRANSACTION after CAPA
    c.quit()


# ---- STAT, LIST, RETR ---------------------------------------------------

def test_empty_maildrop(env):
    c = env.login(filled(env))
    assert c.ok("STAT") == "+OK 0 0"
    status, lines = c.lines("LIST")
    assert lines == []
    status, lines = c.lines("UIDL")
    assert lines == []
    c.err("RETR 1")
    c.err("LIST 1")
    c.err("TOP 1 0")
    c.err("DELE 1")
    c.quit()


def test_stat_list_retr_exact(env):
    msgs = [M_PLAIN, M_EMPTY_BODY, M_FOLDED]
    c = env.login(filled(env, *msgs))
    assert stat(c) == (3, sum(len(m) for m in msgs))
    status, lines = c.lines("LIST")
    assert listing(lines) == {i + 1: str(len(m)) for i, m in enumerate(msgs)}
    for i, m in enumerate(msgs, 1):
        m2 = SCAN.match(c.ok("LIST %d" % i))
        assert m2 and m2.group(1) == str(i) and m2.group(2) == str(len(m))
        assert retr(c, i) == m  # nothing to stuff: the octets as stored
    c.quit()


def test_sizes_match_what_retr_sends_for_delivered_mail(env):
    """Mail through SMTP gains a trace header; LIST, STAT and RETR's
    count still equal the octets RETR sends, and IMAP's RFC822.SIZE."""
    user = filled(env)
    env.deliver(user, message("via smtp", body="one\n.two\n...\n"))
    env.deliver(user, message("second", body="x" * 5000 + "\n"))
    _, inbox = env.inbox(user)
    c = env.login(user)
    status, lines = c.lines("LIST")
    sizes = listing(lines)
    total = 0
    for n in (1, 2):
        raw = retr(c, n)
        data = unstuff(raw)
        assert int(sizes[n]) == len(data) == inbox[n - 1][2]
        assert raw == stuff(data)
        total += len(data)
    assert data.endswith(b"x" * 5000 + b"\r\n")
    assert stat(c) == (2, total)
    c.quit()


def test_byte_stuffing(env):
    """RFC 1939 3: a line starting with "." goes out with one more; the
    counts are of the message itself."""
    c = env.login(filled(env, M_DOTS))
    raw = retr(c, 1)
    assert raw == crlf("From: bob@example.test\nSubject: dots\n\n"
                       "..leading dot\n...two dots\n..\nnot a dot\n"
                       ".. space\nlast.\n")
    assert unstuff(raw) == M_DOTS
    assert stat(c) == (1, len(M_DOTS))
    status, raw = c.multi("TOP 1 3")
    assert raw == crlf("From: bob@example.test\nSubject: dots\n\n"
                       "..leading dot\n...two dots\n..\n")
    c.quit()


def test_message_without_final_line_end(env):
    """A message whose last line has no CRLF still ends the multi-line
    response properly: CRLF, then "." CRLF (RFC 1939 3)."""
    msg = crlf("From: bob@example.test\nSubject: open end\n\nfirst\n") + \
        b"last line without end"
    c = env.login(filled(env, msg))
    status, raw = c.multi("RETR 1")
    assert status.startswith("+OK"), status
    assert raw == msg + b"\r\n"
    c.ok("NOOP")  # the session is in step: nothing left over
    assert c.pending(0.2) == b""
    c.quit()


# ---- TOP ----------------------------------------------------------------

def test_top(env):
    c = env.login(filled(env, M_PLAIN, M_FOLDED, M_EMPTY_BODY))
    head = M_PLAIN.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    body = M_PLAIN[len(head):].split(b"\r\n")[:-1]
    status, raw = c.multi("TOP 1 0")
    assert status.startswith("+OK") and raw == head
    for k in (1, 2, 3, 4):
        status, raw = c.multi("top 1 %d" % k)
        assert raw == head + b"".join(l + b"\r\n" for l in body[:k]), k
    status, raw = c.multi("TOP 1 1000")
    assert raw == M_PLAIN
    # A folded header is all header.
    status, raw = c.multi("TOP 2 0")
    assert raw == crlf("From: bob@example.test\nSubject: folded\n header\n"
                       "X-Other: x\n\n")
    status, raw = c.multi("TOP 2 1")
    assert raw.endswith(b"\r\n\r\nbody 1\r\n")
    status, raw = c.multi("TOP 3 5")
    assert raw == M_EMPTY_BODY
    # TOP marks nothing and changes nothing.
    assert retr(c, 1) == M_PLAIN
    c.quit()


def test_top_bad_arguments(env):
    c = env.login(filled(env, M_PLAIN))
    for bad in ("TOP", "TOP 1", "TOP 1 x", "TOP x 1", "TOP 0 1", "TOP 2 0",
                "TOP 1 -1"):
        c.err(bad)
    c.ok("DELE 1")
    c.err("TOP 1 0")
    c.ok("NOOP")
    c.quit()


# ---- UIDL ---------------------------------------------------------------

def test_uidl(env):
    user = filled(env, M_PLAIN, M_DOTS, M_FOLDED)
    expected = env.uidls(user)
    c = env.login(user)
    status, lines = c.lines("UIDL")
    got = listing(lines)
    assert sorted(got) == [1, 2, 3]
    for n, uid in got.items():
        assert UIDL.match(uid), uid
    assert [got[n] for n in (1, 2, 3)] == expected
    assert len(set(got.values())) == 3
    for n in (1, 2, 3):
        assert c.ok("UIDL %d" % n) == "+OK %d %s" % (n, got[n])
    c.err("UIDL 4")
    c.err("UIDL 0")
    c.quit()
    # The same in the next session.
    c = env.login(user)
    status, lines = c.lines("uidl")
    assert listing(lines) == got
    c.quit()


def test_uidl_unique_for_every_user_message(env):
    """Within a maildrop every value differs, even for identical
    messages (RFC 1939 7), and a message that has gone never lends its
    value to a new one."""
    user = filled(env, M_PLAIN, M_PLAIN)
    c = env.login(user)
    status, lines = c.lines("UIDL")
    first = listing(lines)
    c.ok("DELE 2")
    c.quit()
    env.append(user, M_PLAIN)
    c = env.login(user)
    status, lines = c.lines("UIDL")
    second = listing(lines)
    assert second[1] == first[1]
    assert second[2] not in first.values()
    c.quit()


# ---- DELE, RSET ---------------------------------------------------------

def test_dele_and_rset(env):
    msgs = [M_PLAIN, M_DOTS, M_FOLDED]
    c = env.login(filled(env, *msgs))
    status, lines = c.lines("UIDL")
    uidls = listing(lines)
    assert c.ok("DELE 2").startswith("+OK")
    # RFC 1939 5: deleted messages are not counted, listed or shown.
    assert stat(c) == (2, len(M_PLAIN) + len(M_FOLDED))
    status, lines = c.lines("LIST")
    assert listing(lines) == {1: str(len(M_PLAIN)), 3: str(len(M_FOLDED))}
    status, lines = c.lines("UIDL")
    assert listing(lines) == {1: uidls[1], 3: uidls[3]}
    for cmd in ("RETR 2", "LIST 2", "UIDL 2", "TOP 2 0", "DELE 2"):
        c.err(cmd)
    c.ok("DELE 1")
    c.ok("DELE 3")
    assert c.ok("STAT") == "+OK 0 0"
    status, lines = c.lines("LIST")
    assert lines == []
    # RSET unmarks them all.
    assert c.ok("RSET").startswith("+OK")
    assert stat(c) == (3, sum(len(m) for m in msgs))
    assert retr(c, 2) == stuff(M_DOTS)
    status, lines = c.lines("UIDL")
    assert listing(lines) == uidls
    c.quit()


def test_bad_message_numbers(env):
    c = env.login(filled(env, M_PLAIN, M_PLAIN))
    for cmd in ("RETR", "RETR 0", "RETR 3", "RETR -1", "RETR x", "RETR 1x",
                "RETR 99999999999999999999", "LIST 0", "LIST 3", "LIST x",
                "DELE 0", "DELE 3", "DELE", "UIDL 3", "UIDL x"):
        c.err(cmd)
    # The session goes on, nothing marked.
    assert stat(c) == (2, 2 * len(M_PLAIN))
    c.quit()


def test_commands_any_case(env):
    user = filled(env, M_PLAIN)
    c = env.raw()
    c.ok("user " + user)
    c.ok("pAsS " + env.passwords[user])
    assert c.ok("stat") == "+OK 1 %d" % len(M_PLAIN)
    assert c.ok("List 1") == "+OK 1 %d" % len(M_PLAIN)
    status, raw = c.multi("rEtR 1")
    assert raw == M_PLAIN
    c.ok("noop")
    c.ok("dele 1")
    c.ok("rset")
    status, raw = c.multi("Top 1 0")
    assert raw.endswith(b"\r\n\r\n")
    c.ok("Quit")
    c.expect_eof()


def test_noop_and_unknown_commands(env):
    c = env.login(filled(env))
    assert c.ok("NOOP").startswith("+OK")
    c.err("FROB")
    c.err("RETRX 1")
    c.err("APOP")  # not offered: no APOP timestamp in the greeting
    c.ok("NOOP")
    c.quit()


def test_overlong_line(env):
    """A line far past any POP3 command's length: -ERR, and the session
    goes on in step."""
    c = env.login(filled(env, M_PLAIN))
    c.err("NOOP " + "x" * 20000)
    assert stat(c) == (1, len(M_PLAIN))
    c.quit()


def test_bad_command_limit_closes_and_deletes_nothing(env):
    """max_bad_commands 10: ten unknown commands in a row end the
    session; a good command in between starts the count again. The
    session did not QUIT, so its DELE does nothing."""
    user = filled(env, M_PLAIN)
    c = env.login(user)
    c.ok("DELE 1")
    for _ in range(9):
        c.err("FROB")
    c.ok("NOOP")
    for _ in range(9):
        c.err("FROB")
    c.sendline("FROB")
    lines = []
    try:
        while True:
            lines.append(c.readline())
    except EOFError:
        pass
    assert lines and all(l.startswith("-ERR") for l in lines), lines
    assert env.stat(user) == (1, len(M_PLAIN))


# ---- PIPELINING ---------------------------------------------------------

def test_pipelined_login_and_commands(env):
    user = filled(env, M_PLAIN, M_DOTS)
    c = env.raw()
    c.send("USER %s\r\nPASS %s\r\nSTAT\r\nRETR 2\r\nLIST 1\r\nQUIT\r\n"
           % (user, env.passwords[user]))
    assert c.status().startswith("+OK")
    assert c.status().startswith("+OK")
    assert c.status() == "+OK 2 %d" % (len(M_PLAIN) + len(M_DOTS))
    assert c.status().startswith("+OK")
    assert c.body() == stuff(M_DOTS)
    assert c.status() == "+OK 1 %d" % len(M_PLAIN)
    assert c.status().startswith("+OK")
    c.expect_eof()


def test_hundred_retrs_in_one_write(env):
    msgs = [message("pipelined %d" % i, body=".dot %d\n%s\n" % (i, "y" * i))
            for i in range(5)]
    user = filled(env, *msgs)
    c = env.login(user)
    cmds, want = [], []
    for i in range(100):
        n = i % 5 + 1
        cmds.append("RETR %d" % n)
        want.append(("multi", stuff(msgs[n - 1])))
        if i % 25 == 0:
            cmds += ["RETR 99", "NOOP", "UIDL %d" % n, "TOP %d 0" % n]
            want += [("err", None), ("ok", None), ("ok", None),
                     ("multi", msgs[n - 1].split(b"\r\n\r\n")[0] +
                      b"\r\n\r\n")]
    c.send("".join(x + "\r\n" for x in cmds))
    for cmd, (kind, data) in zip(cmds, want):
        status = c.status()
        if kind == "err":
            assert status.startswith("-ERR"), (cmd, status)
            continue
        assert status.startswith("+OK"), (cmd, status)
        if kind == "multi":
            assert c.body() == data, cmd
    c.ok("NOOP")
    assert c.pending(0.2) == b""
    c.quit()


def test_big_message_ahead_of_many_pipelined_retrs(env):
    """A message longer than one round of output (64 KiB) at the head
    of a batch, with 300 RETRs written behind it at once: the requests
    that join while it is sent must fit beside it (a worker once wrote
    past its table here and crashed)."""
    big = message("big", body="".join(".%06d %s\n" % (i, "b" * 70)
                                      for i in range(4000)))
    small = [message("s %d" % i, body="small %d\n" % i) for i in range(3)]
    user = filled(env, big, *small)
    c = env.login(user)
    order = [1] + [2 + i % 3 for i in range(150)] + [1] + \
        [2 + i % 3 for i in range(148)]
    c.send("".join("RETR %d\r\n" % n for n in order))
    msgs = [big] + small
    for i, n in enumerate(order):
        status = c.status()
        assert status.startswith("+OK"), (i, n, status)
        assert c.body() == stuff(msgs[n - 1]), (i, n)
    c.ok("NOOP")
    c.quit()


# ---- Clients ------------------------------------------------------------

def test_poplib_session(env):
    msgs = [M_PLAIN, M_DOTS, M_FOLDED]
    user = filled(env, *msgs)
    expected_uidls = env.uidls(user)
    p = env.poplib(user)
    assert p.stat() == (3, sum(len(m) for m in msgs))
    resp, lines, octets = p.list()
    assert lines == [b"%d %d" % (i + 1, len(m)) for i, m in enumerate(msgs)]
    resp, lines, octets = p.retr(2)
    assert lines == M_DOTS.split(b"\r\n")[:-1]
    resp, lines, octets = p.top(1, 1)
    assert lines == M_PLAIN.split(b"\r\n")[:5]
    resp, lines, octets = p.uidl()
    assert [l.split()[1].decode() for l in lines] == expected_uidls
    caps = p.capa()
    assert "UIDL" in caps and "TOP" in caps
    p.dele(3)
    assert p.stat() == (2, len(M_PLAIN) + len(M_DOTS))
    p.rset()
    p.dele(1)
    p.quit()
    assert env.stat(user) == (2, len(M_DOTS) + len(M_FOLDED))


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


@pytest.mark.parametrize("opts", [[], ["--sasl-ir"],
                                  ["--login-options", "AUTH=LOGIN"]],
                         ids=["default", "sasl-ir", "login"])
def test_curl_retrieves_and_lists(env, opts):
    """curl, a third-party client: CAPA, AUTH (PLAIN, with and without an
    initial response, or LOGIN), RETR with the dots undone, LIST."""
    user = filled(env, M_PLAIN, M_DOTS)
    url = "pop3://127.0.0.1:%d/" % env.port()
    login = ["-u", "%s:%s" % (user, env.passwords[user])] + opts
    assert curl(url + "2", *login) == M_DOTS
    assert curl(url, *login).replace(b"\r\n", b"\n") == \
        b"1 %d\n2 %d\n" % (len(M_PLAIN), len(M_DOTS))
    # curl QUITs: nothing deleted, and the maildrop is free again.
    assert env.stat(user) == (2, len(M_PLAIN) + len(M_DOTS))


# ---- Memory -------------------------------------------------------------

def big_body(size):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR\r\n"
    return line * (size // len(line))


def test_20mb_retr_streams_with_flat_memory(env):
    body = big_body(20 << 20)
    msg = b"From: big@example.test\r\nSubject: big\r\n\r\n" + body
    user = filled(env, msg)
    c = env.login(user)
    worker = env.worker_of(c)
    assert c.ok("LIST 1") == "+OK 1 %d" % len(msg)
    base = rss_kib(worker)
    c.sendline("RETR 1")
    time.sleep(0.5)  # the server fills its output buffer and waits
    stalled = rss_kib(worker)
    # A stalled reader holds up nobody else in its worker.
    other = env.login(filled(env, M_PLAIN))
    assert env.worker_of(other) == worker
    began = time.monotonic()
    status, raw = other.multi("RETR 1")
    assert raw == M_PLAIN and time.monotonic() - began < 2
    other.quit()
    # Read it in 64 KiB pieces, sampling the worker as the data comes.
    chunks, c.buf = [c.buf], b""
    peak, got, step = 0, len(chunks[0]), 0
    want_end = b"\r\n.\r\n"
    while True:
        data = c.sock.recv(65536)
        assert data, "connection closed"
        chunks.append(data)
        got += len(data)
        if got // (1 << 20) != step:
            step = got // (1 << 20)
            peak = max(peak, rss_kib(worker))
        if got > len(msg) and b"".join(chunks[-2:]).endswith(want_end):
            break
    data = b"".join(chunks)
    head = b"+OK %d octets\r\n" % len(msg)
    assert data[:len(head)] == head, data[:80]
    sent = data[len(head):-3]
    assert len(sent) == len(msg)
    assert hashlib.sha256(sent).digest() == hashlib.sha256(msg).digest()
    grown = max(stalled, peak) - base
    # AddressSanitizer's quarantine keeps freed memory: no bound there.
    if not sanitized():
        assert grown < 12 * 1024, "worker grew by %d KiB" % grown
    c.quit()
