"""pop3.so and TLS: STLS (RFC 2595 4) with what CAPA says before and
after it, passwords refused in the clear where the listener wants TLS
(auth_plaintext tls, the default), plaintext pipelined after STLS
discarded (the CVE-2011-0411 class), implicit TLS (pop3s, RFC 8314),
a listener without TLS, and poplib and curl over both kinds of TLS.

One server for the module; every test has users of its own."""

import base64
import subprocess
import time

import pytest

from pop3_helpers import crlf, message, shared_pop3, stuff

MSG = crlf("From: bob@example.test\nSubject: secret\n\n.hidden\nbody\n")


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_pop3(
        sdk, certs, tmp_path_factory,
        listeners=("pop3", "pop3-tls", "pop3s", "pop3-clear", "imap",
                   "smtp"),
        extra={"pop3-clear": {"protocol": "pop3", "tls": "none",
                              "auth_plaintext": "allow"}})


def plain(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()
                            ).decode()


def filled(env):
    user = env.new_user()
    env.append(user, MSG)
    return user


def stls(env, c):
    assert c.ok("STLS").startswith("+OK")
    c.starttls(env.tls_context())


# ---- Before STLS --------------------------------------------------------

def test_capa_before_stls_offers_no_passwords(env):
    c = env.raw("pop3-tls")
    caps, lines = c.capa()
    assert "STLS" in caps, lines
    # Nothing to log in with yet: no USER, no SASL line (RFC 2449 6.3,
    # 6.8), and UTF8 without its USER argument (RFC 6856 2).
    assert "USER" not in caps and "SASL" not in caps, lines
    assert caps.get("UTF8") == [], lines
    for word in ("TOP", "UIDL", "PIPELINING", "RESP-CODES",
                 "AUTH-RESP-CODE"):
        assert word in caps, (word, lines)
    c.quit()


def test_user_pass_refused_before_stls(env):
    """auth_plaintext tls: -ERR [AUTH] saying TLS is needed, at USER or
    at PASS; the right password does not get in."""
    user = filled(env)
    c = env.raw("pop3-tls")
    reply = c.cmd("USER " + user)
    if reply.startswith("+OK"):
        reply = c.cmd("PASS " + env.passwords[user])
    assert reply.startswith("-ERR [AUTH]"), reply
    assert "TLS" in reply.upper(), reply
    c.err("STAT")
    c.quit()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_sasl_refused_before_stls(env, mech):
    user = filled(env)
    c = env.raw("pop3-tls")
    if mech == "PLAIN":
        reply = c.cmd("AUTH PLAIN " + plain(user, env.passwords[user]))
    else:
        c.sendline("AUTH LOGIN")
        reply = c.readline()
        if reply.startswith("+ "):
            # Refused only once the password came: still a refusal.
            c.sendline(base64.b64encode(user.encode()).decode())
            assert c.readline().startswith("+ ")
            reply = c.cmd(base64.b64encode(
                env.passwords[user].encode()).decode())
    assert reply.startswith("-ERR [AUTH]"), reply
    assert "TLS" in reply.upper(), reply
    c.err("STAT")
    c.quit()


# ---- STLS ---------------------------------------------------------------

def test_stls_then_login(env):
    user = filled(env)
    c = env.raw("pop3-tls")
    stls(env, c)
    caps, lines = c.capa()
    assert "STLS" not in caps, lines
    assert "USER" in caps and sorted(caps["SASL"]) == ["LOGIN", "PLAIN"]
    assert caps["UTF8"] == ["USER"], lines
    c.err("STLS")  # TLS is active (RFC 2595 4)
    c.login(user, env.passwords[user])
    status, raw = c.multi("RETR 1")
    assert raw == stuff(MSG)
    c.quit()


def test_stls_then_auth_plain(env):
    user = filled(env)
    c = env.raw("pop3-tls")
    stls(env, c)
    c.ok("AUTH PLAIN " + plain(user, env.passwords[user]))
    assert c.ok("STAT") == "+OK 1 %d" % len(MSG)
    c.quit()


def test_stls_only_in_authorization(env):
    """RFC 2595 4: STLS is for the AUTHORIZATION state only."""
    user = filled(env)
    c = env.login(user, name="pop3")
    caps, lines = c.capa()
    assert "STLS" not in caps, lines
    c.err("STLS")
    # Still in plaintext and in TRANSACTION.
    assert c.ok("STAT") == "+OK 1 %d" % len(MSG)
    c.quit()


def test_stls_lowercase(env):
    c = env.raw("pop3-tls")
    assert c.ok("stls").startswith("+OK")
    c.starttls(env.tls_context())
    c.quit()


def test_plaintext_after_stls_is_discarded(env):
    """Commands sent after STLS in the same write must not run inside
    TLS (RFC 2595 3.1, CVE-2011-0411)."""
    user = filled(env)
    c = env.raw("pop3-tls")
    c.send("STLS\r\nUSER %s\r\nCAPA\r\n" % user)
    assert c.status().startswith("+OK")
    c.starttls(env.tls_context())
    # The injected CAPA got no answer, and USER was forgotten.
    assert c.pending(0.3) == b""
    c.err("PASS " + env.passwords[user])
    c.err("STAT")
    c.login(user, env.passwords[user])
    assert c.ok("STAT") == "+OK 1 %d" % len(MSG)
    c.quit()


def test_injection_split_over_two_writes(env):
    """The injected line arrives after STLS's +OK but before the
    handshake: still plaintext, never run."""
    user = filled(env)
    c = env.raw("pop3-tls")
    c.sendline("STLS")
    assert c.status().startswith("+OK")
    c.send("USER %s\r\n" % user)
    time.sleep(0.1)
    try:
        c.starttls(env.tls_context())
        line = c.cmd("PASS " + env.passwords[user])
    except (OSError, EOFError):
        line = None  # the handshake failed on the stray line: fine
    assert line is None or line.startswith("-ERR"), line


def test_stls_not_offered_without_tls(env):
    c = env.raw("pop3-clear")
    caps, lines = c.capa()
    assert "STLS" not in caps and "USER" in caps, lines
    c.err("STLS")
    user = filled(env)
    c.login(user, env.passwords[user])
    c.quit()


# ---- Implicit TLS -------------------------------------------------------

def test_pop3s(env):
    user = filled(env)
    c = env.raw("pop3s", tls=True)
    caps, lines = c.capa()
    assert "STLS" not in caps, lines
    assert "USER" in caps and sorted(caps["SASL"]) == ["LOGIN", "PLAIN"]
    c.err("STLS")
    c.login(user, env.passwords[user])
    status, raw = c.multi("RETR 1")
    assert raw == stuff(MSG)
    c.quit()


def test_poplib_ssl_and_stls(env):
    user = filled(env)
    p = env.poplib_ssl(user)
    assert p.stat() == (1, len(MSG))
    resp, lines, octets = p.retr(1)
    assert lines == MSG.split(b"\r\n")[:-1]
    p.quit()
    p = env.poplib(name="pop3-tls")
    assert "STLS" in p.capa()
    p.stls(env.tls_context())
    assert "STLS" not in p.capa()
    p.user(user)
    p.pass_(env.passwords[user])
    assert p.stat() == (1, len(MSG))
    p.quit()


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


@pytest.mark.parametrize("scheme,listener", [("pop3s", "pop3s"),
                                             ("pop3", "pop3-tls")])
def test_curl_over_tls(env, certs, scheme, listener):
    """curl with the test CA: implicit TLS, and STLS (--ssl-reqd)."""
    user = filled(env)
    env.deliver(user, message("second"))
    port = env.port(listener)
    args = ["--cacert", certs.cert, "--resolve",
            "localhost:%d:127.0.0.1" % port,
            "-u", "%s:%s" % (user, env.passwords[user])]
    if scheme == "pop3":
        args.append("--ssl-reqd")
    base = "%s://localhost:%d/" % (scheme, port)
    assert curl(base + "1", *args) == MSG
    listed = curl(base, *args).replace(b"\r\n", b"\n").split(b"\n")
    assert listed[0] == b"1 %d" % len(MSG) and listed[1].startswith(b"2 ")
    assert env.stat(user)[0] == 2
