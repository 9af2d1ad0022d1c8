"""The DATA and BDAT paths: SMTP smuggling attempts (bare LF, bare CR and
false ends of data never end the message, never inject a second one),
the size limit at MAIL (SIZE=) and while streaming, BDAT chunks (RFC
3030), per-recipient failures (an over-quota mailbox refused at RCPT
while the others get the message) and max_recipients."""

import os
import time

import pytest

from smtp_helpers import (body, dot_stuff, headers, message, start_smtp)

ALICE = "alice@example.test"
BOB = "bob@example.test"
MAX = 1024 * 1024  # max_message_size 1m

SMUGGLED = (b"MAIL FROM:<evil@remote.test>\r\n"
            b"RCPT TO:<bob@example.test>\r\n"
            b"DATA\r\n"
            b"Subject: smuggled\r\n\r\nsmuggled body\r\n")

# False ends of data (CVE-2023-51764 class) and bare line ends.
SEQUENCES = {
    "lf-dot-lf": b"\n.\n",
    "crlf-dot-lf": b"\r\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "cr-dot-cr": b"\r.\r",
    "crlf-dot-cr": b"\r\n.\r",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr-crlf": b"\r\n.\r\r\n",
    "crlf-dot-nul-crlf": b"\r\n.\x00\r\n",
    "crlf-dot-space-crlf": b"\r\n. \r\n",
}


@pytest.fixture
def env(poshtad):
    users = {a: "pw " + a for a in (
        ALICE, BOB, "carol@example.test", "dave@example.test",
        "erin@example.test", "frank@example.test")}
    return start_smtp(poshtad, users=users)


def open_data(c, rcpts=(ALICE,), sender="sender@remote.test"):
    c.ehlo()
    c.cmd("MAIL FROM:<%s>" % sender).check(250)
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r).check(250)
    c.cmd("DATA").check(354)


@pytest.mark.parametrize("seq", list(SEQUENCES.values()),
                         ids=list(SEQUENCES))
def test_smuggling(env, seq):
    with env.client() as c:
        open_data(c)
        c.send(b"Subject: carrier\r\n\r\nbefore\r\n" + seq + SMUGGLED +
               b"after\r\n.\r\n")
        r = c.reply()
        # Rejected (5.5.2), or accepted as one message with the sequence
        # kept as data.
        assert (r.code, r.enh) in ((550, "5.5.2"), (250, "2.0.0")), r
        # Nothing more: no replies to smuggled commands.
        c.sendline("QUIT")
        c.reply().check(221)
        c.expect_eof()
    assert env.count(BOB) == 0, "a second message was injected"
    alice = env.messages(ALICE)
    if r.code == 250:
        (msg,) = alice
        assert headers(msg, "Subject") == ["Subject: carrier"]
        assert b"smuggled body" in msg and b"after" in msg
    else:
        assert alice == []


@pytest.mark.parametrize("data", [
    b"Subject: bare lf\r\n\r\none\ntwo\r\n",
    b"Subject: bare lf\nX: y\r\n\r\nbody\r\n",
    b"Subject: bare cr\r\n\r\none\rtwo\r\n",
    b"Subject: bare cr\r\n\r\nlast line\r\r\n",
], ids=["lf-body", "lf-header", "cr-body", "cr-before-crlf"])
def test_bare_line_ends_rejected(env, data):
    """Issue 4: bare LF and bare CR in DATA are rejected with 5.5.x."""
    with env.client() as c:
        open_data(c)
        c.send(data + b".\r\n")
        c.reply().check(550, "5.5.2")
        # The session goes on: a clean message is accepted.
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("DATA").check(354)
        c.send(b"Subject: clean\r\n\r\nok\r\n.\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages(ALICE)
    assert headers(msg, "Subject") == ["Subject: clean"]


def test_end_of_data_split_across_writes(env):
    with env.client() as c:
        open_data(c)
        c.send(b"Subject: split\r\n\r\nline")
        tail = b"\r\n.\r\n"
        for i in range(len(tail)):
            time.sleep(0.05)
            c.send(tail[i:i + 1])
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages(ALICE)
    assert body(msg) == b"line\n"


def test_size_at_mail(env):
    with env.client() as c:
        kws = c.ehlo().keywords()
        assert "SIZE" in kws
        c.cmd("MAIL FROM:<sender@remote.test> SIZE=%d" % (MAX + 1)).check(
            552, "5.3.4")
        c.cmd("MAIL FROM:<sender@remote.test> SIZE=99999999999999999999"
              ).check(552, "5.3.4")
        r = c.cmd("MAIL FROM:<sender@remote.test> SIZE=abc")
        assert (r.code, r.enh) in ((501, "5.5.4"), (555, "5.5.4")), r
        c.cmd("MAIL FROM:<sender@remote.test> SIZE=1000").check(250, "2.1.0")
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="declared")))
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(ALICE) == 1


def big(size):
    """A message of about size octets, lines of 78 characters."""
    line = b"x" * 76 + b"\r\n"
    head = b"Subject: big\r\n\r\n"
    n = (size - len(head)) // len(line)
    return head + line * n


@pytest.mark.parametrize("declared", [None, 1000])
def test_size_while_streaming(env, declared):
    data = big(MAX + 200 * 1024)
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>" + (
            " SIZE=%d" % declared if declared else "")).check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("DATA").check(354)
        c.send(data)
        # Nothing before the end of the data (RFC 5321: one reply).
        c.send(b".\r\n")
        c.reply().check(552, "5.3.4")
        # Back in command state, the transaction gone.
        c.cmd("RCPT TO:<%s>" % ALICE).check(503, "5.5.1")
        c.cmd("NOOP").check(250)
        c.quit()
    assert env.count(ALICE) == 0


def test_size_just_under_the_limit(env):
    data = big(MAX - 20 * 1024)
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test> SIZE=%d" % len(data)).check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("DATA").check(354)
        c.send(dot_stuff(data))
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages(ALICE)
    assert body(msg) == body(data.replace(b"\r\n", b"\n"))


def test_bdat_chunks(env):
    content = (b"Subject: chunked\r\n\r\n"
               b".no stuffing in BDAT\r\n"
               b"a false end\r\n.\r\nstill data\r\n"
               b"last\r\n")
    cuts = [0, 7, 21, 40, 41, len(content)]
    with env.client() as c:
        kws = c.ehlo().keywords()
        assert "CHUNKING" in kws, kws
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        for a, b in zip(cuts, cuts[1:]):
            c.send(b"BDAT %d\r\n" % (b - a) + content[a:b])
            c.reply().check(250, "2.0.0")
        c.send(b"BDAT 0 LAST\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    for user in (ALICE, BOB):
        (msg,) = env.messages(user)
        assert headers(msg, "Subject") == ["Subject: chunked"]
        assert body(msg) == (b".no stuffing in BDAT\na false end\n.\n"
                             b"still data\nlast\n"), msg


def test_bdat_pipelined_with_last(env):
    with env.client() as c:
        c.ehlo()
        part1 = b"Subject: bdat last\r\n\r\nfirst "
        part2 = b"second\r\n"
        c.send(b"MAIL FROM:<sender@remote.test>\r\n"
               b"RCPT TO:<alice@example.test>\r\n"
               b"BDAT %d\r\n%sBDAT %d LAST\r\n%sNOOP\r\n" % (
                   len(part1), part1, len(part2), part2))
        c.reply().check(250, "2.1.0")
        c.reply().check(250, "2.1.5")
        c.reply().check(250, "2.0.0")
        c.reply().check(250, "2.0.0")
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages(ALICE)
    assert body(msg) == b"first second\n"


def test_bdat_sequence_errors(env):
    with env.client() as c:
        c.ehlo()
        # Without MAIL: refused, and the 5 octets are still read as the
        # chunk (RFC 3030 2), not as a command.
        # HELP, if run, would answer 214 before the NOOP's 250.
        c.send(b"BDAT 6\r\nHELP\r\n")
        c.reply().check(503, "5.5.1")
        c.cmd("NOOP").check(250, "2.0.0")
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.send(b"BDAT 6 LAST\r\nHELP\r\n")
        r = c.reply()  # no recipient yet
        assert r.code in (503, 554) and r.enh == "5.5.1", r
        c.cmd("NOOP").check(250, "2.0.0")
        c.cmd("RSET").check(250)
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.send(b"BDAT 4\r\nab\r\n")
        c.reply().check(250, "2.0.0")
        # DATA after BDAT in one transaction: 503 (RFC 3030 2).
        c.cmd("DATA").check(503, "5.5.1")
        r = c.cmd("BDAT x")
        assert r.code == 501 and r.enh in ("5.5.4", "5.5.2"), r
        c.cmd("RSET").check(250)
        c.quit()
    assert env.count(ALICE) == 0


def test_bdat_over_the_limit(env):
    chunk = b"y" * (256 * 1024)
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        codes = []
        for _ in range(5):
            c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            codes.append(c.reply())
        c.send(b"BDAT 0 LAST\r\n")
        codes.append(c.reply())
        assert any((r.code, r.enh) == (552, "5.3.4") for r in codes), codes
        assert codes[-1].code // 100 == 5, codes
        c.cmd("NOOP").check(250)
        c.quit()
    assert env.count(ALICE) == 0


def test_over_quota_at_rcpt(env):
    # Fill bob's mailbox past a 1k quota first.
    mbox = env.poshtad.root + "/fill.mbox"
    with open(mbox, "wb") as f:
        f.write(b"From x@y Sat Jan  1 00:00:00 2000\nSubject: fill\n\n"
                + b"z" * 4000 + b"\n")
    env.ctl.ok("import-mbox", BOB, mbox)
    env.ctl.ok("quota", "set", BOB, "1k")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % BOB).check(452, "4.2.2")
        c.cmd("RCPT TO:<%s>" % ALICE).check(250, "2.1.5")
        c.cmd("RCPT TO:<carol@example.test>").check(250, "2.1.5")
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="one fails")))
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(BOB) == 1  # only the fill message
    for user in (ALICE, "carol@example.test"):
        (msg,) = env.messages(user)
        assert headers(msg, "Subject") == ["Subject: one fails"]


def test_disabled_user(env):
    env.ctl.ok("user", "disable", BOB)
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        r = c.cmd("RCPT TO:<%s>" % BOB)
        assert r.code == 550 and r.enh in ("5.1.1", "5.2.1"), r
        c.quit()
    assert env.count(BOB) == 0


def test_max_recipients(env):
    users = [ALICE, BOB, "carol@example.test", "dave@example.test",
             "erin@example.test"]
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        for u in users:
            c.cmd("RCPT TO:<%s>" % u).check(250, "2.1.5")
        c.cmd("RCPT TO:<frank@example.test>").check(452, "4.5.3")
        c.cmd("RCPT TO:<frank@example.test>").check(452, "4.5.3")
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="five")))
        c.reply().check(250, "2.0.0")
        # The limit is per transaction.
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<frank@example.test>").check(250, "2.1.5")
        c.cmd("RSET").check(250)
        c.quit()
    for u in users:
        assert env.count(u) == 1, u
    assert env.count("frank@example.test") == 0


def test_dsn_parameters(env):
    """RFC 3461 parameters are accepted (kept for the relay)."""
    with env.client() as c:
        kws = c.ehlo().keywords()
        assert "DSN" in kws
        c.cmd("MAIL FROM:<sender@remote.test> RET=HDRS ENVID=QQ314159"
              ).check(250, "2.1.0")
        c.cmd("RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE "
              "ORCPT=rfc822;alice@example.test" % ALICE).check(250, "2.1.5")
        r = c.cmd("RCPT TO:<%s> NOTIFY=NEVER,SUCCESS" % BOB)
        assert r.code in (501, 555) and r.enh == "5.5.4", r
        r = c.cmd("RCPT TO:<%s> NOTIFY=SOMETIMES" % BOB)
        assert r.code in (501, 555) and r.enh == "5.5.4", r
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="dsn")))
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(ALICE) == 1 and env.count(BOB) == 0


def stuffed_heavy(size):
    """A message of exactly size octets whose lines mostly start with a
    dot (each doubled on the wire): SIZE counts the unstuffed octets."""
    head = b"Subject: exact\r\n\r\n"
    line = b"." + b"s" * 61 + b"\r\n"  # 64 octets
    n = (size - len(head)) // len(line)
    rest = size - len(head) - n * len(line)
    data = head + line * n
    if rest:
        data += b"t" * (rest - 2) + b"\r\n" if rest >= 2 else b""
    assert len(data) == size or rest == 1
    return data


@pytest.mark.parametrize("size,ok", [(MAX, True), (MAX + 2, False)],
                         ids=["exactly-max", "max-plus-2"])
def test_size_boundary(env, size, ok):
    """RFC 1870: the size is the octets of the message, CR LF included,
    quoting dots not; max_message_size itself is allowed."""
    data = stuffed_heavy(size)
    assert len(data) == size
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test> SIZE=%d" % size).check(
            *((250, "2.1.0") if ok else (552, "5.3.4")))
        c.cmd("MAIL FROM:<sender@remote.test>").check(
            *((503, "5.5.1") if ok else (250, "2.1.0")))
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("DATA").check(354)
        c.send(dot_stuff(data))
        c.reply().check(*((250, "2.0.0") if ok else (552, "5.3.4")))
        c.quit()
    msgs = env.messages(ALICE)
    if ok:
        (msg,) = msgs
        assert body(msg) == body(data.replace(b"\r\n", b"\n"))
    else:
        assert msgs == []


@pytest.mark.parametrize("size,ok", [(MAX, True), (MAX + 1, False)],
                         ids=["exactly-max", "max-plus-1"])
def test_bdat_size_boundary(env, size, ok):
    data = big(size)
    data += b"u" * (size - len(data))
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        half = len(data) // 2
        c.send(b"BDAT %d\r\n" % half + data[:half])
        c.reply().check(250, "2.0.0")
        c.send(b"BDAT %d LAST\r\n" % (len(data) - half) + data[half:])
        c.reply().check(*((250, "2.0.0") if ok else (552, "5.3.4")))
        c.quit()
    assert env.count(ALICE) == (1 if ok else 0)


@pytest.mark.parametrize("length", [998, 1200, 9000, 100000])
@pytest.mark.parametrize("verb", ["DATA", "BDAT"])
def test_long_body_line(env, verb, length):
    """A body line longer than the command line bound: kept whole, or the
    message refused with 5xx (and maybe a close); never cut, never
    partly executed, never a close without a reply."""
    long_line = (b"0123456789" * (length // 10 + 1))[:length]
    data = (b"Subject: long line\r\n\r\nbefore\r\n" + long_line +
            b"\r\nafter\r\n")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        if verb == "DATA":
            c.cmd("DATA").check(354)
            c.send(dot_stuff(data))
        else:
            c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        # A reply, whatever it is: a client that gets none (a reset or
        # a bare close) takes it as temporary and retries for ever.
        try:
            r = c.reply()
        except (EOFError, ConnectionResetError) as e:
            raise AssertionError("no reply to a %d-octet line, the "
                                 "connection closed: %r" % (length, e))
        assert r.code in (250, 421, 500, 550, 552, 554), r
        if r.code == 250:
            c.cmd("NOOP").check(250, "2.0.0")
            c.quit()
    msgs = env.messages(ALICE)
    if r.code == 250:
        (msg,) = msgs
        assert body(msg) == b"before\n" + long_line + b"\nafter\n", (
            "body changed: %d octets stored for a %d octet line" % (
                len(body(msg)), length))
    else:
        assert length > 998, "a legal 998-octet line was refused: %r" % r
        assert msgs == []


def test_recipients_of_one_user_get_one_copy(env):
    """Issue 4: a multi-recipient message is stored once per user."""
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        for r in (ALICE, "postmaster@example.test", "alice@EXAMPLE.TEST",
                  BOB):
            c.cmd("RCPT TO:<%s>" % r).check(250, "2.1.5")
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="once")))
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(ALICE) == 1 and env.count(BOB) == 1


def test_empty_and_dot_only_messages(env):
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.cmd("DATA").check(354)
        c.send(b"Subject: dots only\r\n\r\n..\r\n...\r\n.\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages(ALICE)
    assert body(msg) == b".\n..\n"


def test_connection_lost_mid_data(env):
    with env.client() as c:
        open_data(c, rcpts=(ALICE, BOB))
        c.send(b"Subject: cut\r\n\r\n" + b"partial line\r\n" * 20000)
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        c.send(b"BDAT 100000\r\n" + b"b" * 50000)
    # The server is fine, and nothing of either message was delivered.
    with env.client() as c:
        c.ehlo()
        c.quit()
    assert env.count(ALICE) == 0 and env.count(BOB) == 0


def test_rset_between_bdat_chunks(env):
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.send(b"BDAT 20\r\nSubject: dropped\r\n\r\n")
        c.reply().check(250)
        c.cmd("RSET").check(250, "2.0.0")
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250)
        data = b"Subject: kept\r\n\r\nonly this\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(BOB) == 0
    (msg,) = env.messages(ALICE)
    assert headers(msg, "Subject") == ["Subject: kept"]
    assert body(msg) == b"only this\n"


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_no_fd_leak_on_aborted_messages(env):
    """Spool files (past 64 KiB a message goes to a file) are closed on
    every way a transaction can end badly."""
    (worker,) = env.poshtad.workers()
    payload = b"Subject: spool\r\n\r\n" + b"s" * 76 + b"\r\n"
    payload = payload * 2000  # about 160 KB: past the in-memory spool

    def round_():
        with env.client() as c:  # too big while streaming
            open_data(c)
            c.send(big(MAX + 100 * 1024) + b".\r\n")
            c.reply().check(552, "5.3.4")
            c.cmd("RSET").check(250)
            # Bare LF deep in a spooled message.
            c.cmd("MAIL FROM:<sender@remote.test>").check(250)
            c.cmd("RCPT TO:<%s>" % ALICE).check(250)
            c.cmd("DATA").check(354)
            c.send(payload + b"bare\nlf\r\n.\r\n")
            c.reply().check(550, "5.5.2")
            # BDAT abandoned by RSET.
            c.cmd("MAIL FROM:<sender@remote.test>").check(250)
            c.cmd("RCPT TO:<%s>" % ALICE).check(250)
            c.send(b"BDAT %d\r\n" % len(payload) + payload)
            c.reply().check(250)
            c.cmd("RSET").check(250)
        with env.client() as c:  # dropped mid-DATA, past the spool
            open_data(c)
            c.send(payload)
        with env.client() as c:  # dropped mid-BDAT
            c.ehlo()
            c.cmd("MAIL FROM:<sender@remote.test>").check(250)
            c.cmd("RCPT TO:<%s>" % ALICE).check(250)
            c.send(b"BDAT %d\r\n" % (2 * len(payload)) + payload)

    round_()
    time.sleep(0.5)
    before = open_fds(worker)
    for _ in range(5):
        round_()
    deadline = time.monotonic() + 5
    while open_fds(worker) > before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_fds(worker) <= before + 2, (before, open_fds(worker))
    assert env.count(ALICE) == 0


def test_bcc_not_disclosed(env):
    """Each user's copy names no other recipient (no shared "for"
    clause listing everyone: that would disclose a Bcc)."""
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        for r in (ALICE, BOB, "carol@example.test"):
            c.cmd("RCPT TO:<%s>" % r).check(250)
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="bcc", to=ALICE)))
        c.reply().check(250, "2.0.0")
        c.quit()
    for user in (BOB, "carol@example.test"):
        (msg,) = env.messages(user)
        trace = b"\n".join(h.encode() for h in headers(msg, "Received"))
        others = [u for u in (BOB, "carol@example.test") if u != user]
        for o in others:
            assert o.encode() not in msg, (user, o, trace)
    (msg,) = env.messages(ALICE)
    assert b"bob@" not in msg and b"carol@" not in msg, msg[:600]


def test_alias_to_full_mailbox(env):
    env.ctl.ok("alias", "add", "sales@example.test", BOB)
    mbox = env.poshtad.root + "/fill.mbox"
    with open(mbox, "wb") as f:
        f.write(b"From x@y Sat Jan  1 00:00:00 2000\nSubject: fill\n\n"
                + b"z" * 4000 + b"\n")
    env.ctl.ok("import-mbox", BOB, mbox)
    env.ctl.ok("quota", "set", BOB, "1k")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<sales@example.test>").check(452, "4.2.2")
        c.quit()
    assert env.count(BOB) == 1


def test_declared_size_over_quota_at_rcpt(env):
    """Issue 4 "over-quota at RCPT when known", RFC 1870 6: with SIZE=
    on MAIL the server knows the message will not fit bob's quota."""
    env.ctl.ok("quota", "set", BOB, "1k")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test> SIZE=4000").check(250)
        c.cmd("RCPT TO:<%s>" % ALICE).check(250, "2.1.5")
        r = c.cmd("RCPT TO:<%s>" % BOB)
        assert (r.code, r.enh) in ((452, "4.2.2"), (552, "5.2.2")), r
        c.quit()


@pytest.mark.parametrize("rcpts", [(ALICE, BOB), (BOB,)],
                         ids=["alice-and-bob", "bob-alone"])
def test_message_over_quota_is_never_lost(env, rcpts):
    """bob has room at RCPT, the message then does not fit. After a
    final 250 each accepted recipient has the message (RFC 5321 6.1:
    no silent loss, and there is no bounce path yet); after a refusal
    nobody has it (the client retries or bounces for all)."""
    env.ctl.ok("quota", "set", BOB, "1k")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        for rcpt in rcpts:
            c.cmd("RCPT TO:<%s>" % rcpt).check(250)
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="too big for bob",
                                 body_text=b"q" * 4000 + b"\r\n")))
        r = c.reply()
        c.quit()
    got = tuple(env.count(u) for u in rcpts)
    if r.code == 250:
        assert got == (1,) * len(rcpts), (
            "%r but bob's copy was dropped: %r %r\n%s" % (
                r, rcpts, got, env.poshtad.log()[-800:]))
    else:
        assert r.code // 100 in (4, 5), r
        if len(rcpts) == 1:
            assert (r.code, r.enh) in ((452, "4.2.2"), (552, "5.2.2")), r
        assert got == (0,) * len(rcpts), got


def test_concurrent_sessions_same_mailbox(poshtad):
    """Ten sessions over two workers deliver to the same two mailboxes at
    once: every message gets its 250 and is stored exactly once."""
    import threading

    env = start_smtp(poshtad, workers=2)
    errors = []

    def session(n):
        try:
            with env.client() as c:
                c.ehlo()
                for i in range(8):
                    c.cmd("MAIL FROM:<sender@remote.test>").check(250)
                    c.cmd("RCPT TO:<%s>" % ALICE).check(250)
                    c.cmd("RCPT TO:<%s>" % BOB).check(250)
                    c.cmd("DATA").check(354)
                    c.send(dot_stuff(message(subject="c %d-%d" % (n, i),
                                             body_text=b"w" * 3000)))
                    c.reply().check(250, "2.0.0")
                c.quit()
        except Exception as e:  # reported below
            errors.append((n, repr(e)))

    threads = [threading.Thread(target=session, args=(n,))
               for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    want = sorted("Subject: c %d-%d" % (n, i)
                  for n in range(10) for i in range(8))
    for user in (ALICE, BOB):
        got = sorted(headers(m, "Subject")[0] for m in env.messages(user))
        assert got == want, (user, len(got))


def test_concurrent_over_quota_batch(poshtad):
    """Sessions that deliver to one user at once share one append (a
    batch); when the batch does not fit the user's quota, each message
    is tried alone: exactly the messages that got a 250 are stored, the
    others got 452 4.2.2 (never a 250 for a message that is not there,
    never a message without its 250)."""
    import threading

    env = start_smtp(poshtad, workers=1)
    env.ctl.ok("quota", "set", BOB, "20k")
    replies = {}
    go = threading.Event()

    def session(n):
        with env.client() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<sender@remote.test>").check(250)
            c.cmd("RCPT TO:<%s>" % BOB).check(250)
            c.cmd("DATA").check(354)
            data = dot_stuff(message(subject="q %d" % n,
                                     body_text=b"z" * 3000 + b"\r\n"))
            c.send(data[:-5])
            go.wait(30)
            c.send(data[-5:])  # all end their data at the same moment
            replies[n] = c.reply()
            c.quit()

    threads = [threading.Thread(target=session, args=(n,))
               for n in range(12)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    go.set()
    for t in threads:
        t.join(60)
    assert len(replies) == 12, replies
    ok = sorted("Subject: q %d" % n for n, r in replies.items()
                if r.code == 250)
    for n, r in replies.items():
        if r.code != 250:
            assert (r.code, r.enh) == (452, "4.2.2"), (n, r)
    got = sorted(headers(m, "Subject")[0] for m in env.messages(BOB))
    assert got == ok
    # About 3.4 KB stored each: five fit in 20k. A batch refused whole
    # would leave one or two.
    assert 4 <= len(ok) < 12, replies
