"""smtp.so on an mx listener, in the clear: smtplib delivery to a local
user and to an alias, the trace headers added at delivery, the body
byte for byte (dot-stuffing both ways), the simple verbs and their codes,
command sequence errors, 8BITMIME, SMTPUTF8, and swaks."""

import re
import subprocess

import pytest

from conftest import TIMEOUT
from smtp_helpers import (body, check, enh, headers, message, send_raw,
                          start_smtp)

SENDER = "sender@remote.test"


@pytest.fixture
def env(poshtad):
    return start_smtp(poshtad)


def test_ehlo_keywords(env):
    s = env.smtplib()
    try:
        code, _ = s.ehlo()
        assert code == 250
        feats = s.esmtp_features
        for kw in ("size", "8bitmime", "pipelining", "enhancedstatuscodes",
                   "smtputf8", "chunking", "dsn", "starttls"):
            assert kw in feats, "%s not in EHLO: %r" % (kw, feats)
        if feats["size"].strip():
            assert int(feats["size"]) == 1024 * 1024, feats["size"]
        # auth_plaintext defaults to tls: no AUTH in the clear.
        assert "auth" not in feats, feats
        check(s.noop(), 250, "2.0.0")
    finally:
        s.close()


def test_greeting_and_helo(env):
    with env.client(greet=False) as c:
        r = c.reply().check(220)
        assert "ESMTP" in " ".join(r.texts), r
        r = c.cmd("HELO client.test").check(250)
        assert len(r.lines) == 1  # HELO: no extension list
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<alice@example.test>").check(250)
        c.cmd("DATA").check(354)
        c.send(b"Subject: helo\r\n\r\nx\r\n.\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages("alice@example.test")
    # RFC 5321 4.4 / RFC 3848: "with SMTP" after HELO.
    rx = headers(msg, "Received")[0]
    assert re.search(r"\bwith SMTP\b", rx), rx


def test_delivery_to_user_and_alias(env):
    data = message(subject="hello alice", body_text=(
        "first line\r\n"
        ".starts with a dot\r\n"
        "..two dots\r\n"
        ".\r\n"
        "From the start of a line\r\n"
        "last line\r\n"))
    s = env.smtplib()
    try:
        s.ehlo()
        check(s.mail(SENDER), 250, "2.1.0")
        check(s.rcpt("alice@example.test"), 250, "2.1.5")
        check(s.rcpt("bob@example.test"), 250, "2.1.5")
        check(s.data(data), 250, "2.0.0")
        # The alias, in a second transaction on the same connection.
        check(s.mail(SENDER), 250, "2.1.0")
        check(s.rcpt("postmaster@example.test"), 250, "2.1.5")
        check(s.data(message(subject="for postmaster")), 250, "2.0.0")
        check(s.quit(), 221, "2.0.0")
    finally:
        s.close()

    alice = env.messages("alice@example.test")
    bob = env.messages("bob@example.test")
    assert len(alice) == 2 and len(bob) == 1
    assert env.count("carol@example.test") == 0
    for msg in (alice[0], bob[0]):
        lines = msg.split(b"\n")
        # Return-Path first, then the trace header, then the message.
        assert lines[0] == b"Return-Path: <%s>" % SENDER.encode(), lines[:3]
        received = headers(msg, "Received")
        assert received, msg[:500]
        rx = received[0]
        assert "ESMTP" in rx and "client.test" in rx and "127.0.0.1" in rx, rx
        assert headers(msg, "Subject") == ["Subject: hello alice"]
        # The body comes back exactly (LF line ends in the export).
        assert body(msg) == (b"first line\n.starts with a dot\n..two dots\n"
                             b".\nFrom the start of a line\nlast line\n"), msg
    assert headers(alice[1], "Subject") == ["Subject: for postmaster"]


def test_raw_dot_stuffing(env):
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250, "2.1.0")
        c.cmd("RCPT TO:<alice@example.test>").check(250, "2.1.5")
        c.cmd("DATA").check(354)
        # Stuffed by hand: "..x" is ".x", "...." is "...", "." alone ends.
        c.send(b"Subject: dots\r\n\r\n..x\r\n....\r\n..\r\nend\r\n.\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    (msg,) = env.messages("alice@example.test")
    assert body(msg) == b".x\n...\n.\nend\n"


def test_simple_verbs(env):
    with env.client() as c:
        c.ehlo()
        c.cmd("NOOP").check(250, "2.0.0")
        c.cmd("NOOP with an argument").check(250, "2.0.0")
        c.cmd("RSET").check(250, "2.0.0")
        r = c.cmd("HELP")
        assert r.code in (211, 214) and r.enh == "2.0.0", r
        c.cmd("VRFY alice@example.test").check(252, "2.5.2")
        c.cmd("VRFY nobody@example.test").check(252, "2.5.2")
        # EXPN is not offered (RFC 5321 3.5.2: 502 or 252).
        r = c.cmd("EXPN postmaster@example.test")
        assert r.code in (252, 502, 550), r
        assert "alice" not in " ".join(r.texts), r
        c.sendline("QUIT")
        c.reply().check(221, "2.0.0")
        c.expect_eof()


def test_rset_clears_transaction(env):
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<alice@example.test>").check(250)
        c.cmd("RSET").check(250, "2.0.0")
        c.cmd("RCPT TO:<alice@example.test>").check(503, "5.5.1")
        c.cmd("DATA").check(503, "5.5.1")
        # A new transaction after RSET works.
        c.send(b"MAIL FROM:<x@remote.test>\r\n")
        c.reply().check(250)
        c.quit()
    assert env.count("alice@example.test") == 0


def test_sequence_errors(env):
    with env.client() as c:
        # RFC 5321 4.1.4: EHLO/HELO before a mail transaction.
        c.cmd("MAIL FROM:<%s>" % SENDER).check(503, "5.5.1")
        c.cmd("RCPT TO:<alice@example.test>").check(503, "5.5.1")
        c.cmd("DATA").check(503, "5.5.1")
        c.ehlo()
        c.cmd("RCPT TO:<alice@example.test>").check(503, "5.5.1")
        c.cmd("DATA").check(503, "5.5.1")
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("MAIL FROM:<%s>" % SENDER).check(503, "5.5.1")
        c.cmd("DATA").check(503, "5.5.1")  # no recipient yet
        c.cmd("RCPT TO:<alice@example.test>").check(250)
        # A second EHLO resets the transaction (RFC 5321 4.1.4).
        c.ehlo()
        c.cmd("DATA").check(503, "5.5.1")
        c.quit()
    assert env.count("alice@example.test") == 0


def test_syntax_errors(env):
    with env.client() as c:
        r = c.cmd("FROBNICATE")
        assert r.code in (500, 502) and r.enh in ("5.5.1", "5.5.2"), r
        r = c.cmd("EHLO")
        assert r.code == 501 and r.enh in ("5.5.4", "5.5.2"), r
        c.ehlo()
        for bad in ("MAIL FROM:bad-address", "MAIL FROM:<no-at-sign",
                    "MAIL TO:<%s>" % SENDER, "MAIL"):
            r = c.cmd(bad)
            assert r.code in (501, 553) and r.enh in (
                "5.5.4", "5.5.2", "5.1.7", "5.1.3"), (bad, r)
        c.cmd("MAIL FROM:<%s> FROB=1" % SENDER).check(555, "5.5.4")
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<alice@example.test> FROB=1").check(555, "5.5.4")
        r = c.cmd("RCPT TO:alice@example.test@")
        assert r.code in (501, 553) and r.enh in (
            "5.5.4", "5.5.2", "5.1.3"), r
        # RFC 5321 4.5.3.1.4: a command line over 512 octets.
        r = c.cmd("NOOP " + "x" * 2000)
        assert r.code == 500 and r.enh and r.enh.startswith("5.5."), r
        # The session still works.
        c.cmd("RCPT TO:<alice@example.test>").check(250, "2.1.5")
        c.cmd("RSET").check(250)
        c.quit()


def test_unknown_user(env):
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<nobody@example.test>").check(550, "5.1.1")
        c.cmd("RCPT TO:<alice@example.test>").check(250)
        c.cmd("DATA").check(354)
        c.send(b"Subject: x\r\n\r\nx\r\n.\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count("alice@example.test") == 1


def test_null_sender(env):
    """Bounces (MAIL FROM:<>) are accepted; Return-Path: <>."""
    with env.client() as c:
        r = send_raw(c, "", ["alice@example.test"],
                     message(subject="bounce"))
        r.check(250, "2.0.0")
    (msg,) = env.messages("alice@example.test")
    assert msg.split(b"\n")[0] == b"Return-Path: <>"


def test_8bitmime(env):
    text = "Grüße aus Köln, naïve café — ¡olé!\r\n".encode("utf-8")
    latin1 = "caf\xe9 cr\xe8me\r\n".encode("latin-1")
    data = (b"Subject: 8bit\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text + latin1)
    s = env.smtplib()
    try:
        s.ehlo()
        check(s.mail(SENDER, ["BODY=8BITMIME"]), 250, "2.1.0")
        check(s.rcpt("alice@example.test"), 250, "2.1.5")
        check(s.data(data), 250, "2.0.0")
        code, msg = s.mail(SENDER, ["BODY=BINARYMIME"])  # not offered
        assert code in (501, 555) and enh(msg) == "5.5.4", (code, msg)
        check(s.rset(), 250)
        check(s.mail(SENDER, ["BODY=7BIT"]), 250, "2.1.0")
    finally:
        s.close()
    (msg,) = env.messages("alice@example.test")
    assert body(msg) == (text + latin1).replace(b"\r\n", b"\n")


def test_smtputf8(env):
    sender = "jürgen@bücher.example"
    subject = "Привет, 世界"
    data = ("From: Jürgen <%s>\r\nTo: alice@example.test\r\n"
            "Subject: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Ünïcödé body\r\n" % (sender, subject)).encode("utf-8")
    s = env.smtplib()
    try:
        s.ehlo()
        assert s.has_extn("smtputf8")
        check(s.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"]), 250, "2.1.0")
        check(s.rcpt("alice@example.test"), 250, "2.1.5")
        check(s.data(data), 250, "2.0.0")
    finally:
        s.close()
    (msg,) = env.messages("alice@example.test")
    assert msg.split(b"\n")[0] == ("Return-Path: <%s>" % sender).encode()
    assert headers(msg, "Subject") == ["Subject: " + subject]
    assert body(msg) == "Ünïcödé body\n".encode()


def test_smtputf8_needs_the_parameter(env):
    """A UTF-8 address without SMTPUTF8 on MAIL is refused (RFC 6531
    3.5: 553 5.6.7), and nothing is delivered."""
    with env.client() as c:
        c.ehlo()
        r = c.cmd("MAIL FROM:<jürgen@bücher.example>")
        assert r.code in (553, 501, 550) and r.enh in (
            "5.6.7", "5.1.7", "5.5.4"), r
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        r = c.cmd("RCPT TO:<jürgen@example.test>")
        assert r.code in (553, 501, 550) and r.enh in (
            "5.6.7", "5.1.3", "5.1.1", "5.5.4"), r
        c.quit()


def test_smtputf8_trace_protocol(env):
    """RFC 6531 3.7.3: the Received "with" of an SMTPUTF8 transaction is
    UTF8SMTP (or UTF8SMTPS/A/SA)."""
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<jürgen@bücher.example> SMTPUTF8").check(250)
        c.cmd("RCPT TO:<alice@example.test>").check(250)
        c.cmd("DATA").check(354)
        c.send("Subject: ü\r\n\r\nx\r\n.\r\n".encode())
        c.reply().check(250, "2.0.0")
    (msg,) = env.messages("alice@example.test")
    assert any(re.search(r"\bwith UTF8SMTP", h)
               for h in headers(msg, "Received")), headers(msg, "Received")


@pytest.mark.parametrize("extra", [[], ["--pipeline"]],
                         ids=["plain", "pipeline"])
def test_swaks(env, extra):
    r = subprocess.run(
        ["swaks", "--server", "127.0.0.1:%d" % env.port(),
         "--to", "alice@example.test,bob@example.test",
         "--from", SENDER, "--helo", "swaks.test",
         "--header", "Subject: via swaks", "--body", "swaks body",
         "--timeout", "10"] + extra,
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT * 3)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"<[-~]\s+250 2\.0\.0", r.stdout), r.stdout
    for user in ("alice@example.test", "bob@example.test"):
        (msg,) = env.messages(user)
        assert headers(msg, "Subject") == ["Subject: via swaks"]
        assert b"swaks body" in body(msg)


def test_vrfy_on(poshtad):
    env = start_smtp(poshtad, smtp_opts={"vrfy": "on"})
    with env.client() as c:
        c.ehlo()
        r = c.cmd("VRFY alice@example.test")
        assert r.code == 250 and r.enh in ("2.1.5", "2.1.0"), r
        assert "alice@example.test" in r.texts[-1], r
        r = c.cmd("VRFY nobody@example.test")
        assert (r.code, r.enh) in ((550, "5.1.1"), (252, "2.5.2")), r
        # Never about other domains.
        r = c.cmd("VRFY alice@remote.test")
        assert r.code in (252, 550, 551, 553), r
        c.quit()


def test_max_errors(poshtad):
    env = start_smtp(poshtad, smtp_opts={"max_errors": "3"})
    with env.client() as c:
        c.ehlo()
        replies = []
        for _ in range(10):
            c.sendline("FROBNICATE")
            r = c.reply()
            replies.append(r)
            if r.code == 421:
                break
        assert [r.code for r in replies[:3]] == [500, 500, 500], replies
        assert replies[-1].code == 421 and len(replies) <= 5, replies
        assert replies[-1].enh and replies[-1].enh.startswith("4."), replies
        c.expect_eof()
    # Good commands are not errors: a clean session is unaffected.
    with env.client() as c:
        for _ in range(6):
            c.cmd("NOOP").check(250)
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<alice@example.test>").check(250)
        c.quit()


@pytest.mark.parametrize("path", [
    '"a\rX-Injected: yes"@remote.test',
    '"a\\\rX-Injected: yes"@remote.test',
    "a\x00b@remote.test",
    '"a\x00b"@remote.test',
    "a\x01b@remote.test",
    "a\tb@remote.test",
    "a\x7fb@remote.test",
], ids=["quoted-cr", "quoted-pair-cr", "nul", "quoted-nul", "ctl", "tab",
        "del"])
def test_control_characters_in_paths(env, path):
    """RFC 5321 4.1.2: no control characters in a path (qtextSMTP and
    quoted-pairSMTP are printable); nothing reaches Return-Path or the
    trace header."""
    with env.client() as c:
        c.ehlo()
        c.send(("MAIL FROM:<%s>\r\n" % path).encode())
        r = c.reply()
        assert r.code in (501, 553) and r.enh in ("5.1.7", "5.5.4"), r
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.send(("RCPT TO:<%s>\r\n" % path.replace(
            "remote.test", "example.test")).encode())
        r = c.reply()
        assert r.code in (501, 550, 553) and r.enh in (
            "5.1.3", "5.1.1", "5.5.4"), r
        c.send("EHLO %s\r\n" % path.split("@")[0].strip('"'))
        r = c.reply()
        assert r.code == 501, r
        c.quit()
    assert env.count("alice@example.test") == 0


def test_idn_recipient_by_its_a_labels(env):
    """RFC 6531 3.2: a domain in U-labels is the domain of its A-labels
    (RFC 5891): RCPT TO:<anna@bücher.example> reaches the user the
    backend knows as anna@xn--bcher-kva.example. Without SMTPUTF8 it is
    refused; a name IDNA2008 disallows is a bad address."""
    env.ctl.ok("domain", "add", "xn--bcher-kva.example")
    env.ctl.add_user("anna@xn--bcher-kva.example", "anna pass 4")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s> SMTPUTF8" % SENDER).check(250)
        c.cmd("RCPT TO:<anna@b\u00fccher.example>").check(250, "2.1.5")
        c.cmd("RCPT TO:<anna@\u2603.example>").check(553, "5.1.3")
        c.cmd("DATA").check(354)
        c.send(b"Subject: idn\r\n\r\nx\r\n.\r\n")
        c.reply().check(250, "2.0.0")
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<anna@b\u00fccher.example>").check(553, "5.6.7")
        c.quit()
    (msg,) = env.messages("anna@xn--bcher-kva.example")
    assert headers(msg, "Subject") == ["Subject: idn"]
    # The envelope as the client wrote it stays in the trace.
    assert "for <anna@b\u00fccher.example>" in headers(msg, "Received")[0]
