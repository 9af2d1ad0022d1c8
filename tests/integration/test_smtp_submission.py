"""smtp.so with role submission: STARTTLS then AUTH PLAIN and LOGIN,
implicit TLS (RFC 8314), AUTH required before MAIL, sender_login_match,
no AUTH offered before TLS on a tls-required listener, 530 before
STARTTLS, and a remote recipient refused with a temporary 451 4.7.1
(no queue_sqlite loaded here; test_smtp_enqueue.py loads it) while local
recipients still get the message."""

import base64
import re
import smtplib

import pytest

from smtp_helpers import PASSWORDS, check, headers, message, start_smtp

ALICE = "alice@example.test"
BOB = "bob@example.test"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def plain(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


@pytest.fixture
def env(poshtad):
    return start_smtp(
        poshtad, listeners=("smtp", "submission", "smtps"),
        extra={"clear": {"protocol": "smtp", "role": "submission",
                         "tls": "starttls", "auth_plaintext": "allow"}})


def tls_client(env, name="submission"):
    """A raw client on a STARTTLS listener, after STARTTLS and EHLO."""
    c = env.client(name)
    c.ehlo()
    c.cmd("STARTTLS").check(220, "2.0.0")
    c.starttls(env.tls_context())
    return c


def test_before_tls(env):
    with env.client("submission") as c:
        kws = c.ehlo().keywords()
        assert "STARTTLS" in kws, kws
        assert "AUTH" not in kws, kws
        c.cmd("MAIL FROM:<%s>" % ALICE).check(530, "5.7.0")
        c.cmd("RCPT TO:<%s>" % BOB).check(530, "5.7.0")
        c.cmd("DATA").check(530, "5.7.0")
        r = c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE]))
        assert (r.code, r.enh) in ((530, "5.7.0"), (538, "5.7.11")), r
        c.cmd("NOOP").check(250, "2.0.0")
        c.quit()
    assert "auth ok" not in env.poshtad.log()
    assert env.count(BOB) == 0


def test_starttls_auth_plain_and_deliver(env):
    s = env.smtplib("submission")
    try:
        s.ehlo()
        assert "auth" not in s.esmtp_features
        check(s.starttls(context=env.tls_context()), 220, "2.0.0")
        s.ehlo()
        assert "starttls" not in s.esmtp_features, s.esmtp_features
        mechs = s.esmtp_features.get("auth", "").upper().split()
        assert "PLAIN" in mechs and "LOGIN" in mechs, s.esmtp_features
        # AUTH required before MAIL.
        check(s.mail(ALICE), 530, "5.7.0")
        code, msg = s.docmd("AUTH", "PLAIN " + plain(ALICE, PASSWORDS[ALICE]))
        check((code, msg), 235, "2.7.0")
        code, msg = s.docmd("AUTH", "PLAIN " + plain(ALICE, PASSWORDS[ALICE]))
        check((code, msg), 503, "5.5.1")
        check(s.mail(ALICE), 250, "2.1.0")
        check(s.rcpt(BOB), 250, "2.1.5")
        check(s.data(message(sender=ALICE, to=BOB, subject="submitted")),
              250, "2.0.0")
        s.quit()
    finally:
        s.close()
    (msg,) = env.messages(BOB)
    assert msg.split(b"\n")[0] == b"Return-Path: <%s>" % ALICE.encode()
    received = headers(msg, "Received")[0]
    # RFC 3848 with-protocol, TLS version and the authenticated user.
    assert "ESMTPSA" in received, received
    assert re.search(r"TLS ?v?1[._]?[23]", received), received
    assert ALICE in received, received


def test_auth_login(env):
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH LOGIN").check(334)
        r = c.cmd(b64(ALICE))
        assert r.code == 334, r
        c.cmd(b64(PASSWORDS[ALICE])).check(235, "2.7.0")
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
    # smtplib's LOGIN (initial response with the user name).
    s = env.smtplib("submission")
    try:
        s.starttls(context=env.tls_context())
        s.ehlo()
        s.user, s.password = BOB, PASSWORDS[BOB]
        check(s.auth("LOGIN", s.auth_login, initial_response_ok=True),
              235, "2.7.0")
        check(s.mail(BOB), 250)
    finally:
        s.close()


def test_auth_failures(env):
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, "wrong")).check(535, "5.7.8")
        c.cmd("AUTH PLAIN " + plain("nobody@example.test", "x")).check(
            535, "5.7.8")
        c.cmd("AUTH PLAIN " + plain(BOB, PASSWORDS[BOB], ALICE)).check(
            535, "5.7.8")
        c.cmd("AUTH LOGIN").check(334)
        r = c.cmd("*")  # cancelled (RFC 4954 4)
        assert r.code == 501, r
        r = c.cmd("AUTH CRAM-MD5")
        assert r.code == 504 and r.enh == "5.5.4", r
        r = c.cmd("AUTH PLAIN not-base64!")
        assert r.code == 501 and r.enh in ("5.5.2", "5.5.4"), r
        c.cmd("MAIL FROM:<%s>" % ALICE).check(530, "5.7.0")
        # Still able to log in afterwards.
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(
            235, "2.7.0")
        c.quit()


def test_smtplib_login_and_sendmail(env):
    s = env.smtplib("submission")
    try:
        s.starttls(context=env.tls_context())
        s.ehlo()
        check(s.login(BOB, PASSWORDS[BOB]), 235, "2.7.0")
        refused = s.sendmail(BOB, [ALICE], message(sender=BOB, to=ALICE,
                                                   subject="sendmail"))
        assert refused == {}
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s2 = env.smtplib("submission")
            try:
                s2.starttls(context=env.tls_context())
                s2.login(BOB, "not the password")
            finally:
                s2.close()
    finally:
        s.close()
    (msg,) = env.messages(ALICE)
    assert headers(msg, "Subject") == ["Subject: sendmail"]


def test_implicit_tls(env):
    s = env.smtplib_ssl("smtps")
    try:
        s.ehlo()
        assert "starttls" not in s.esmtp_features
        assert "PLAIN" in s.esmtp_features.get("auth", "").upper()
        check(s.mail(ALICE), 530, "5.7.0")
        check(s.login(ALICE, PASSWORDS[ALICE]), 235, "2.7.0")
        check(s.mail(ALICE), 250, "2.1.0")
        check(s.rcpt(BOB), 250, "2.1.5")
        check(s.data(message(sender=ALICE, to=BOB, subject="smtps")),
              250, "2.0.0")
        s.quit()
    finally:
        s.close()
    (msg,) = env.messages(BOB)
    assert "ESMTPSA" in headers(msg, "Received")[0]


def test_sender_login_match(env):
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        for other in (BOB, "Bob@Example.Test", "sender@remote.test",
                      "alice@example.test.evil.test",
                      "alice@other.example", "alice%remote.test@example.test",
                      '"alice@example.test"@remote.test'):
            r = c.cmd("MAIL FROM:<%s>" % other)
            assert (r.code, r.enh) == (553, "5.7.1"), (other, r)
        c.cmd("MAIL FROM:<alice@EXAMPLE.TEST>").check(250, "2.1.0")
        c.cmd("RSET").check(250)
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250, "2.1.0")
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.cmd("DATA").check(354)
        c.send(message(sender=ALICE) + b".\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(BOB) == 1


def test_sender_login_match_off(poshtad):
    env = start_smtp(poshtad, listeners=("submission",),
                     smtp_opts={"sender_login_match": "off"})
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        c.cmd("MAIL FROM:<%s>" % BOB).check(250, "2.1.0")
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.cmd("DATA").check(354)
        c.send(message(sender=BOB) + b".\r\n")
        c.reply().check(250, "2.0.0")
    assert env.count(BOB) == 1


def test_remote_recipient_is_temporary(env):
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RCPT TO:<friend@remote.test>").check(451, "4.7.1")
        # Only remote recipients: nothing to send, nothing dropped.
        r = c.cmd("DATA")
        assert r.code in (503, 554), r
        c.cmd("RSET").check(250)
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RCPT TO:<friend@remote.test>").check(451, "4.7.1")
        c.cmd("RCPT TO:<%s>" % BOB).check(250, "2.1.5")
        c.cmd("RCPT TO:<nobody@example.test>").check(550, "5.1.1")
        c.cmd("DATA").check(354)
        c.send(message(sender=ALICE, subject="partly") + b".\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    assert env.count(BOB) == 1 and env.count(ALICE) == 0


def test_plaintext_auth_allowed(env):
    """auth_plaintext allow: AUTH in the clear works on that listener."""
    with env.client("clear") as c:
        kws = c.ehlo().keywords()
        assert "STARTTLS" in kws and "AUTH" in kws, kws
        assert {"PLAIN", "LOGIN"} <= {m.upper() for m in kws["AUTH"]}, kws
        c.cmd("MAIL FROM:<%s>" % ALICE).check(530, "5.7.0")
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(
            235, "2.7.0")
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.cmd("DATA").check(354)
        c.send(message(sender=ALICE) + b".\r\n")
        c.reply().check(250, "2.0.0")
    (msg,) = env.messages(BOB)
    rx = headers(msg, "Received")[0]
    assert "ESMTPA" in rx and ALICE in rx, rx


def test_starttls_forgets_state(env):
    """RFC 3207 4.2: the session starts over after the handshake."""
    with env.client("clear") as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        c.cmd("STARTTLS").check(220, "2.0.0")
        c.starttls(env.tls_context())
        # No EHLO yet, and the login is gone.
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        assert r.code in (503, 530), r
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % ALICE).check(530, "5.7.0")
        r = c.cmd("STARTTLS")
        assert r.code == 503 and r.enh == "5.5.1", r
        c.quit()


def test_mx_does_not_accept_auth_in_clear(env):
    with env.client("smtp") as c:
        kws = c.ehlo().keywords()
        assert "AUTH" not in kws
        r = c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE]))
        assert r.code in (503, 530, 538, 502), r
        assert r.code // 100 == 5
        # Still an mx: unauthenticated remote relay refused.
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RCPT TO:<friend@remote.test>").check(550, "5.7.1")
        c.quit()


def test_mx_starttls_delivery(env):
    """STARTTLS on the mx listener: delivered, trace says ESMTPS with the
    TLS version and cipher."""
    with tls_client(env, "smtp") as c:
        kws = c.ehlo().keywords()
        assert "STARTTLS" not in kws, kws
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.cmd("RCPT TO:<friend@remote.test>").check(550, "5.7.1")
        c.cmd("DATA").check(354)
        c.send(message(subject="over tls") + b".\r\n")
        c.reply().check(250, "2.0.0")
        cipher = c.sock.cipher()[0]
        c.quit()
    (msg,) = env.messages(BOB)
    rx = headers(msg, "Received")[0]
    assert re.search(r"\bwith ESMTPS\b", rx), rx
    assert re.search(r"TLS ?v?1[._]?[23]", rx), rx
    assert cipher in rx, (cipher, rx)


def test_sender_may_be_own_alias(env):
    """sender_login_match: the user's own aliases are theirs too."""
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE], ALICE)).check(
            235, "2.7.0")
        c.cmd("MAIL FROM:<postmaster@example.test> AUTH=<>").check(
            250, "2.1.0")
        c.quit()
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(BOB, PASSWORDS[BOB])).check(235)
        c.cmd("MAIL FROM:<postmaster@example.test>").check(553, "5.7.1")
        c.cmd("MAIL FROM:<%s> AUTH=%s" % (BOB, BOB)).check(250, "2.1.0")
        c.quit()


def test_auth_login_written_at_once(env):
    """A client that does not wait for the 334s still gets every reply,
    in order, and is logged in."""
    with tls_client(env) as c:
        c.ehlo()
        c.send("AUTH LOGIN\r\n%s\r\n%s\r\nMAIL FROM:<%s>\r\n" % (
            b64(ALICE), b64(PASSWORDS[ALICE]), ALICE))
        c.reply().check(334)
        c.reply().check(334)
        c.reply().check(235, "2.7.0")
        c.reply().check(250, "2.1.0")
        c.quit()


def test_rset_keeps_the_login(env):
    with tls_client(env) as c:
        c.ehlo()
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RSET").check(250, "2.0.0")
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250, "2.1.0")
        c.quit()
