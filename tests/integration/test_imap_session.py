"""imap.so's session: greeting and CAPABILITY (RFC 9051 6.1.1, 7.1),
LOGIN and AUTHENTICATE with SASL-IR (6.2.2-6.2.3, RFC 4959) and their
RFC 5530 codes, LOGINDISABLED and STARTTLS (6.2.1) with injected
plaintext discarded, implicit TLS, literals (4.3, RFC 7888), pipelining
(5.5), SELECT/EXAMINE responses (6.3.2-6.3.3), NOOP and IDLE seeing
mail delivered by SMTP, ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC
2342), CLOSE/UNSELECT, LOGOUT, and the BAD limit."""

import base64
import subprocess
import imaplib
import re
import time

import pytest

from imap_helpers import ALICE, BOB, shared_imap
from smtp_helpers import PASSWORDS


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory,
                           listeners=("imap", "imap-tls", "imaps", "smtp"),
                           imap_opts={"max_bad_commands": "5"})


@pytest.fixture
def user(env):
    """A user of the test's own, for tests that count its mail (alice
    is everyone's)."""
    return env.new_user()


def caps(line):
    m = re.search(rb"CAPABILITY ([^\]\r\n]*)", line)
    assert m, line
    return m.group(1).split()


def test_greeting_lists_capabilities(env):
    r = env.raw()
    lines, tagged = r.command("CAPABILITY")
    assert tagged == b"t1 OK Capability completed"
    assert len(lines) == 1 and lines[0].startswith(b"* CAPABILITY ")
    words = caps(lines[0])
    for w in (b"IMAP4rev1", b"IMAP4rev2", b"STARTTLS", b"AUTH=PLAIN",
              b"SASL-IR", b"LITERAL+", b"IDLE", b"ENABLE", b"ID",
              b"NAMESPACE", b"UNSELECT"):
        assert w in words, w
    assert b"LOGINDISABLED" not in words


def test_login_and_capabilities_change(env):
    r = env.raw()
    lines, tagged = r.command('LOGIN %s "%s"' % (ALICE, PASSWORDS[ALICE]))
    assert lines == []
    assert tagged.startswith(b"t1 OK [CAPABILITY ")
    words = caps(tagged)
    assert b"AUTH=PLAIN" not in words and b"STARTTLS" not in words
    assert b"IMAP4rev1" in words


def test_login_failure_code(env):
    r = env.raw()
    lines, tagged = r.command('LOGIN %s "wrong"' % ALICE)
    assert tagged == b"t1 NO [AUTHENTICATIONFAILED] Authentication failed"
    # Still not authenticated.
    lines, tagged = r.command("SELECT INBOX")
    assert tagged.startswith(b"t2 BAD")


def test_login_with_literals(env):
    r = env.raw()
    user, pw = ALICE.encode(), PASSWORDS[ALICE].encode()
    r.send(b"a1 LOGIN {%d}\r\n" % len(user))
    assert r.line().startswith(b"+ ")
    r.send(user + b" {%d+}\r\n" % len(pw) + pw + b"\r\n")
    lines, tagged = r.until("a1")
    assert tagged.startswith(b"a1 OK")


def test_logindisabled_before_starttls(env):
    r = env.raw("imap-tls")
    lines, tagged = r.command("CAPABILITY")
    words = caps(lines[0])
    assert b"LOGINDISABLED" in words and b"STARTTLS" in words
    assert not [w for w in words if w.startswith(b"AUTH=")]
    lines, tagged = r.command('LOGIN %s "%s"' % (ALICE, PASSWORDS[ALICE]))
    assert tagged.startswith(b"t2 NO [PRIVACYREQUIRED]")
    lines, tagged = r.command("AUTHENTICATE PLAIN")
    assert tagged.startswith(b"t3 NO [PRIVACYREQUIRED]")


def test_starttls_then_login(env):
    r = env.raw("imap-tls")
    lines, tagged = r.command("STARTTLS")
    assert tagged == b"t1 OK Begin TLS negotiation now"
    r.lc.starttls(env.tls_context())
    lines, tagged = r.command("CAPABILITY")
    words = caps(lines[0])
    assert b"STARTTLS" not in words and b"LOGINDISABLED" not in words
    assert b"AUTH=PLAIN" in words
    r.ok('LOGIN %s "%s"' % (ALICE, PASSWORDS[ALICE]))


def test_starttls_discards_pipelined_plaintext(env):
    """Commands sent after STARTTLS in the same packet must not run
    (RFC 9051 11.1, the CVE-2011-0411 class)."""
    r = env.raw("imap-tls")
    r.send("t1 STARTTLS\r\nt2 LOGIN %s \"%s\"\r\n" % (ALICE,
                                                    PASSWORDS[ALICE]))
    lines, tagged = r.until("t1")
    assert tagged.startswith(b"t1 OK")
    r.lc.buf = b""
    r.lc.starttls(env.tls_context())
    lines, tagged = r.command("NOOP", tag="t3")
    assert tagged == b"t3 OK NOOP completed"
    # t2 never ran: still not logged in.
    lines, tagged = r.command("SELECT INBOX", tag="t4")
    assert tagged.startswith(b"t4 BAD")


def test_implicit_tls_with_imaplib(env, user):
    m = env.imaplib_ssl()
    assert "AUTH=PLAIN" in m.capabilities
    typ, data = m.login(user, env.passwords[user])
    assert typ == "OK"
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"0"]
    m.logout()


def test_authenticate_plain_initial_response(env):
    r = env.raw()
    ir = base64.b64encode(("\0%s\0%s" % (ALICE, PASSWORDS[ALICE])).encode())
    lines, tagged = r.command("AUTHENTICATE PLAIN " + ir.decode())
    assert tagged.startswith(b"t1 OK [CAPABILITY ")


def test_authenticate_plain_continuation_and_cancel(env):
    r = env.raw()
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send("*\r\n")
    lines, tagged = r.until("a")
    assert tagged == b"a BAD Authentication cancelled"
    r.send("b AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send(base64.b64encode(("\0%s\0%s" % (BOB, PASSWORDS[BOB])).encode())
           + b"\r\n")
    lines, tagged = r.until("b")
    assert tagged.startswith(b"b OK")


def test_authenticate_bad_password(env):
    m = env.imaplib()
    with pytest.raises(imaplib.IMAP4.error):
        m.authenticate("PLAIN", lambda _: ("\0%s\0nope" % ALICE).encode())


def test_select_and_examine_responses(env, user):
    env.deliver(user)
    env.deliver(user)
    r = env.login(user)
    lines, tagged = r.command("SELECT INBOX")
    assert tagged == b"t2 OK [READ-WRITE] SELECT completed"
    text = b"\n".join(lines)
    assert b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)" in lines
    assert b"* 2 EXISTS" in lines
    assert b"* 2 RECENT" in lines
    assert b"* OK [UNSEEN 1] First unseen" in lines
    assert re.search(rb"\* OK \[UIDVALIDITY \d+\]", text)
    assert b"* OK [UIDNEXT 3] Predicted next UID" in lines
    assert re.search(rb"\* OK \[PERMANENTFLAGS \(.*\\\*\)\]", text)
    # A second session sees them, but not as recent (RFC 3501 2.3.2).
    r2 = env.login(user)
    lines, tagged = r2.command("EXAMINE inbox")
    assert tagged == b"t2 OK [READ-ONLY] EXAMINE completed"
    assert b"* 2 EXISTS" in lines and b"* 0 RECENT" in lines
    assert b"* OK [PERMANENTFLAGS ()] Read-only mailbox" in lines


def test_select_missing_mailbox(env):
    r = env.login()
    lines, tagged = r.command("SELECT Nowhere")
    assert tagged == b"t2 NO [NONEXISTENT] No such mailbox"
    lines, tagged = r.command("CLOSE")
    assert tagged.startswith(b"t3 BAD")


def test_noop_reports_new_mail(env, user):
    r = env.login(user)
    r.ok("SELECT INBOX")
    env.deliver(user)
    deadline = time.monotonic() + 5
    while True:
        lines = r.ok("NOOP")
        if lines:
            break
        assert time.monotonic() < deadline, "no EXISTS after delivery"
        time.sleep(0.05)
    assert b"* 1 EXISTS" in lines and b"* 1 RECENT" in lines


def test_idle_sees_delivery_within_a_second(env, user):
    r = env.login(user)
    r.ok("SELECT INBOX")
    r.send("i IDLE\r\n")
    assert r.line() == b"+ idling"
    env.deliver(user)
    start = time.monotonic()
    r.lc.sock.settimeout(1.0)
    assert r.line() == b"* 1 EXISTS"
    assert time.monotonic() - start < 1.0
    r.lc.sock.settimeout(10)
    assert r.line() == b"* 1 RECENT"
    r.send("DONE\r\n")
    lines, tagged = r.until("i")
    assert tagged == b"i OK Idle completed"


def test_idle_needs_done(env):
    r = env.login()
    r.send("i IDLE\r\n")
    assert r.line() == b"+ idling"
    r.send("NOPE\r\n")
    lines, tagged = r.until("i")
    assert tagged == b"i BAD Expected DONE"


def test_pipelined_commands_answer_in_order(env, user):
    env.deliver(user)
    r = env.raw()
    r.send('p1 LOGIN %s "%s"\r\np2 SELECT INBOX\r\np3 NOOP\r\n'
           'p4 CAPABILITY\r\np5 EXAMINE INBOX\r\np6 LOGOUT\r\n'
           % (user, env.passwords[user]))
    for tag in ("p1", "p2", "p3", "p4", "p5"):
        lines, tagged = r.until(tag)
        assert tagged.startswith(tag.encode() + b" OK"), tagged
    lines, tagged = r.until("p6")
    assert lines == [b"* BYE Logging out"]
    assert tagged == b"p6 OK Logout completed"
    r.lc.expect_eof()


def test_bad_commands_and_states(env):
    r = env.raw()
    lines, tagged = r.command("FROB")
    assert tagged == b"t1 BAD Unknown command"
    lines, tagged = r.command("SELECT INBOX")
    assert tagged == b"t2 BAD Log in first"
    r.send("\r\n")  # an empty line is ignored
    lines, tagged = r.command("NOOP")
    assert tagged == b"t3 OK NOOP completed"
    r.send("+bad NOOP\r\n")
    assert r.line().startswith(b"* BAD")


def test_too_many_bad_commands_end_the_session(env):
    r = env.raw()
    for i in range(4):
        lines, tagged = r.command("FROB")
        assert b" BAD " in tagged
    r.send("x FROB\r\n")
    assert r.line() == b"x BAD Unknown command"
    assert r.line() == b"* BYE Too many invalid commands"
    r.lc.expect_eof()


def test_enable_id_namespace(env, user):
    r = env.login(user)
    lines, tagged = r.command("ENABLE IMAP4rev2 FOO")
    assert lines == [b"* ENABLED IMAP4rev2"]
    lines, tagged = r.command("ENABLE IMAP4rev2")
    assert lines == [b"* ENABLED"]
    lines, tagged = r.command('ID ("name" "pytest" "version" "1")')
    assert lines == [b'* ID ("name" "Poshta" "vendor" "Poshta")']
    lines, tagged = r.command("ID (\"name\")")
    assert tagged.startswith(b"t5 BAD")
    lines, tagged = r.command("NAMESPACE")
    assert lines == [b'* NAMESPACE (("" "/")) NIL NIL']
    # IMAP4rev2 (RFC 9051 7.3.2): no RECENT, no UNSEEN at SELECT.
    env.deliver(user)
    lines, tagged = r.command("SELECT INBOX")
    assert b"* 1 EXISTS" in lines
    assert not [l for l in lines if b"RECENT" in l or b"UNSEEN" in l]


def test_enable_only_when_authenticated(env):
    r = env.raw()
    lines, tagged = r.command("ENABLE IMAP4rev2")
    assert tagged.startswith(b"t1 BAD")
    r.ok('LOGIN %s "%s"' % (ALICE, PASSWORDS[ALICE]))
    r.ok("SELECT INBOX")
    lines, tagged = r.command("ENABLE IMAP4rev2")
    assert tagged == b"t4 BAD Command not valid in this state"


def test_close_unselect_and_reselect(env):
    r = env.login()
    r.ok("SELECT INBOX")
    lines, tagged = r.command("UNSELECT")
    assert tagged == b"t3 OK Unselect completed"
    lines, tagged = r.command("UNSELECT")
    assert tagged.startswith(b"t4 BAD")
    r.ok("SELECT INBOX")
    lines, tagged = r.command("CLOSE")
    assert tagged == b"t6 OK Close completed"


def test_logout_before_login(env):
    r = env.raw()
    lines, tagged = r.command("LOGOUT")
    assert lines == [b"* BYE Logging out"]
    r.lc.expect_eof()


def test_curl_reads_the_message(env, user):
    """curl, a third-party client: STARTTLS, LOGIN, SELECT, FETCH."""
    env.deliver(user, subject="for curl")
    url = "imap://localhost:%d/INBOX;UID=1" % env.port("imap-tls")
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert",
                        env.certs.cert, "--user",
                        "%s:%s" % (user, env.passwords[user]),
                        "--resolve", "localhost:%d:127.0.0.1" %
                        env.port("imap-tls"), url],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"Subject: for curl" in r.stdout
