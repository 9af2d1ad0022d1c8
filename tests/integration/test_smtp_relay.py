"""No address trick makes the mx listener relay for an unauthenticated
client (issue 4): percent hack, quoted local parts, double @, source
routes, IP literals, bang paths, trailing dots, upper case. Each trick
is its own case, tried with a remote and a forged local sender. An
address whose destination is really local may be accepted, but then the
message must land in that local mailbox and nowhere else."""

import pytest

from conftest import SANITIZER_REPORT, Poshtad
from smtp_helpers import PASSWORDS, message, start_smtp

# Addresses whose destination is not here: RCPT must be refused (5xx).
REMOTE = [
    "alice%remote.test@example.test",
    "alice%remote.test%example.test@example.test",
    '"alice@remote.test"@example.test',
    '"alice%remote.test"@example.test',
    '"alice@remote.test"',
    "alice@remote.test@example.test",
    "alice@example.test@remote.test",
    "@example.test,@relay.test:alice@remote.test",
    "@example.test:alice@remote.test",
    "@relay.test:alice@remote.test",
    "alice@[192.0.2.1]",
    "alice@[IPv6:2001:db8::1]",
    "alice@192.0.2.1",
    "alice@remote.test.",
    "alice@remote.test..",
    "alice@REMOTE.TEST",
    "Alice@Remote.Test.",
    "ALICE@REMOTE.TEST.",
    "alice@remote.test%example.test",
    "alice%example.test@remote.test",
    "alice!remote.test@example.test",
    "remote.test!alice@example.test",
    "remote.test!alice",
    "alice@sub.example.test",
    "alice@example.test.remote.test",
    "alice@example.testx",
    "postmaster@remote.test",
    "alice@",
    "alice@remote.test\\@example.test",
    "alice@remote.test>@example.test",
    " <alice@remote.test>",
    "<alice@remote.test> ",
]

# Addresses that may resolve to alice here; refused or delivered to alice.
MAYBE_LOCAL = [
    "alice@[127.0.0.1]",
    "alice@[IPv6:::1]",
    "alice@example.test.",
    "ALICE@example.test",
    "@relay.test:alice@example.test",
    '"alice"@example.test',
    "alice",
]

# Addresses that are local and must be delivered to alice.
LOCAL = [
    "alice@EXAMPLE.TEST",
    "alice@Example.Test",
    "POSTMASTER@example.test",
    "Postmaster",
    "postmaster",
]

SENDERS = ["sender@remote.test", "alice@example.test"]


@pytest.fixture(scope="module")
def server(sdk, certs, tmp_path_factory):
    """One server for the module (the cases only read and compare
    mailbox counts, relative to each test's start: see env)."""
    p = Poshtad(sdk, certs, str(tmp_path_factory.mktemp("relay")))
    try:
        yield start_smtp(p)
    finally:
        p.stop()
    report = SANITIZER_REPORT.search(p.log())
    assert not report, "sanitizer report in the log:\n" + p.log()[
        max(0, report.start() - 200):report.start() + 3000]


@pytest.fixture
def env(server):
    """The shared server; counts() are relative to the test's start."""
    assert server.poshtad.proc.poll() is None, server.poshtad.log()[-3000:]
    server.baseline = {a: server.count(a) for a in PASSWORDS}
    return server


def attempt(env, sender, rcpt):
    """MAIL, RCPT rcpt, and DATA if RCPT was accepted: (RCPT reply, DATA
    reply or None)."""
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % sender).check(250)
        rcpt_line = "RCPT TO:" + (rcpt if rcpt.strip().startswith("<")
                                  else "<%s>" % rcpt)
        r = c.cmd(rcpt_line)
        final = None
        if r.code // 100 == 2:
            c.cmd("DATA").check(354)
            c.send(message(subject="relay test", to=rcpt) + b".\r\n")
            final = c.reply()
        else:
            # Nothing accepted: DATA has no recipient (RFC 5321 3.3).
            d = c.cmd("DATA")
            assert d.code in (503, 554), d
        c.cmd("RSET").check(250)
        c.quit()
        return r, final


def counts(env):
    """Messages delivered to each user since the test began."""
    return {a: env.count(a) - env.baseline[a] for a in PASSWORDS}


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("rcpt", REMOTE)
def test_remote_destination_refused(env, sender, rcpt):
    r, _ = attempt(env, sender, rcpt)
    assert r.code // 100 == 5, "RCPT TO:<%s> from %s: %r" % (rcpt, sender, r)
    assert r.enh and r.enh.startswith("5."), r
    assert counts(env) == {a: 0 for a in PASSWORDS}


@pytest.mark.parametrize("rcpt", ["alice@remote.test", "bob@other.example",
                                  "alice@REMOTE.TEST",
                                  "@example.test:alice@remote.test"])
def test_relay_denied_code(env, rcpt):
    """A plain remote address: 550 5.7.1 (relay denied)."""
    r, _ = attempt(env, "sender@remote.test", rcpt)
    r.check(550, "5.7.1")


@pytest.mark.parametrize("rcpt", MAYBE_LOCAL)
def test_maybe_local(env, rcpt):
    r, final = attempt(env, "sender@remote.test", rcpt)
    if r.code // 100 == 2:
        final.check(250, "2.0.0")
        assert counts(env) == {"alice@example.test": 1,
                               "bob@example.test": 0,
                               "carol@example.test": 0}
    else:
        assert r.code // 100 == 5, r
        assert counts(env) == {a: 0 for a in PASSWORDS}


@pytest.mark.parametrize("rcpt", LOCAL)
def test_local_delivered(env, rcpt):
    r, final = attempt(env, "sender@remote.test", rcpt)
    r.check(250, "2.1.5")
    final.check(250, "2.0.0")
    assert counts(env) == {"alice@example.test": 1, "bob@example.test": 0,
                           "carol@example.test": 0}


def test_mixed_recipients(env):
    """Remote recipients among local ones: each remote one refused, the
    local one delivered exactly once."""
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<bob@example.test>").check(250, "2.1.5")
        for rcpt in ("alice@remote.test", "bob%remote.test@example.test",
                     "@example.test:bob@remote.test", "bob@remote.test."):
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            assert r.code // 100 == 5, (rcpt, r)
        c.cmd("DATA").check(354)
        c.send(message(subject="mixed") + b".\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    assert counts(env) == {"alice@example.test": 0, "bob@example.test": 1,
                           "carol@example.test": 0}


def test_no_relay_after_auth_on_mx(env):
    """role mx never relays, even for a client that logged in over TLS
    (if AUTH is offered there at all)."""
    import base64
    with env.client() as c:
        c.ehlo()
        c.cmd("STARTTLS").check(220, "2.0.0")
        c.starttls(env.tls_context())
        kws = c.ehlo().keywords()
        if "AUTH" in kws:
            cred = base64.b64encode(
                b"\0alice@example.test\0" +
                PASSWORDS["alice@example.test"].encode()).decode()
            c.cmd("AUTH PLAIN " + cred).check(235, "2.7.0")
        c.cmd("MAIL FROM:<alice@example.test>").check(250)
        for rcpt in ("friend@remote.test", "friend%remote.test@example.test",
                     "@example.test:friend@remote.test"):
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            assert r.code // 100 in (4, 5), (rcpt, r)
        c.quit()
    assert counts(env) == {a: 0 for a in PASSWORDS}


def test_alias_to_remote_address(poshtad):
    """An alias that forwards off-site needs the relay: until it exists,
    a temporary refusal at RCPT, never a 250 followed by silence. A
    catch-all alias delivers locally."""
    env = start_smtp(poshtad, aliases=[
        ("fwd@example.test", "friend@remote.test"),
        ("both@example.test", "friend@remote.test"),
        ("both@example.test", "bob@example.test"),
        ("@example.test", "carol@example.test")])
    with env.client() as c:
        c.ehlo()
        for rcpt in ("fwd@example.test", "both@example.test"):
            c.cmd("MAIL FROM:<sender@remote.test>").check(250)
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            assert r.code // 100 == 4 and r.enh.startswith("4."), (rcpt, r)
            c.cmd("RSET").check(250)
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<anything@example.test>").check(250, "2.1.5")
        c.cmd("RCPT TO:<anything@remote.test>").check(550, "5.7.1")
        c.cmd("DATA").check(354)
        c.send(message(subject="catch-all") + b".\r\n")
        c.reply().check(250, "2.0.0")
        c.quit()
    assert {a: env.count(a) for a in PASSWORDS} == {
        "alice@example.test": 0, "bob@example.test": 0,
        "carol@example.test": 1}
