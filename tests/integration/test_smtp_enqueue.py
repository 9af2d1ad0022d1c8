"""smtp.so's receiving side of outbound mail (issue #7): a logged-in
submission's remote recipients go into the queue (queue_sqlite) before
the 250, with the envelope's RET, ENVID, NOTIFY, ORCPT and flags, the
body led by the Received field and without Return-Path; local recipients
of the same message are still delivered; kill -9 after the 250 keeps the
message; an mx never relays; without a queue, the old 451 4.7.1. DKIM
signing by the From domain's key (dkim_sign), checked with dkimpy. And
REQUIRETLS (RFC 8689): offered and accepted only on a TLS session.

The queue has no runner here, but tests assert only on what is in the
queue right after the 250: a runner would defer, not change, it."""

import base64
import json
import os
import re
import subprocess

import dkim  # Debian's python3-dkim
import pytest

from conftest import TIMEOUT, quote
from smtp_helpers import POSHTACTL, PASSWORDS, Ctl, message, start_smtp

ALICE = "alice@example.test"
BOB = "bob@example.test"
FRIEND = "friend@remote.test"


def plain(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()


def submit_client(env):
    """A raw client on the submission listener: STARTTLS, EHLO, AUTH."""
    c = env.client("submission")
    c.ehlo()
    c.cmd("STARTTLS").check(220, "2.0.0")
    c.starttls(env.tls_context())
    kws = c.ehlo().keywords()
    c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
    return c, kws


def send(c, data, mail="MAIL FROM:<%s>" % ALICE, rcpts=(FRIEND,)):
    c.cmd(mail).check(250)
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r if "<" not in r else "RCPT TO:" + r).check(
            250, "2.1.5")
    c.cmd("DATA").check(354)
    c.send(data + b".\r\n")
    return c.reply()


def queue_ctl(env):
    return Ctl(env.poshtad, load=("queue_sqlite",), body="")


def queued(env):
    """The queue's messages (queue list --json), oldest first."""
    out = queue_ctl(env).ok("queue", "list", "--json")
    return [json.loads(line) for line in out.splitlines()]


def show(env, qid):
    """queue show: the envelope text, and the body."""
    raw = queue_ctl(env).run("queue", "show", qid, "--body")
    text, body = raw.split(b"\n\n", 1)
    return text.decode(), body


@pytest.fixture
def env(poshtad):
    return start_smtp(poshtad, listeners=("smtp", "submission"), queue=True,
                      extra={"clear": {"protocol": "smtp",
                                       "role": "submission",
                                       "tls": "starttls",
                                       "auth_plaintext": "allow"}})


def test_remote_and_local_recipients(env):
    msg = message(sender=ALICE, to=FRIEND, subject="outbound")
    c, kws = submit_client(env)
    with c:
        assert "REQUIRETLS" in kws, kws
        r = send(c, msg, mail="MAIL FROM:<%s> RET=HDRS ENVID=QQ314159 "
                 "BODY=8BITMIME SMTPUTF8 REQUIRETLS" % ALICE,
                 rcpts=("<%s> NOTIFY=FAILURE,DELAY ORCPT=rfc822;%s"
                        % (FRIEND, FRIEND), BOB))
        r.check(250, "2.0.0")
        c.quit()
    # The local recipient got it as before.
    assert env.count(BOB) == 1
    [m] = queued(env)
    text, body = show(env, m["id"])
    for line in ("sender:         " + ALICE, "ret:            hdrs",
                 "envid:          QQ314159",
                 "flags:          SMTPUTF8 8BITMIME REQUIRETLS",
                 "user:           " + ALICE,
                 "client:         client.test [127.0.0.1]",
                 "recipients:     1", "  address:      " + FRIEND,
                 "  kind:         remote", "  route:        remote.test",
                 "  orcpt:        rfc822;" + FRIEND,
                 "  notify:       FAILURE DELAY"):
        assert "\n" + line + "\n" in text, (line, text)
    # Received first, no Return-Path (final delivery adds it), then the
    # message as sent.
    assert body.startswith(b"Received: from client.test ([127.0.0.1])"), body
    assert b"Return-Path" not in body
    assert body.endswith(msg)


def test_only_remote_plain_envelope(env):
    msg = message(sender=ALICE, to=FRIEND, subject="just out")
    c, _ = submit_client(env)
    with c:
        send(c, msg).check(250, "2.0.0")
    [m] = queued(env)
    text, body = show(env, m["id"])
    for line in ("ret:            none", "envid:          -",
                 "flags:          -", "  orcpt:        -",
                 "  notify:       -"):
        assert "\n" + line + "\n" in text, (line, text)
    assert body.endswith(msg)
    assert "enqueued id=" in env.poshtad.log()


def test_recipient_named_twice_is_queued_once(env):
    c, _ = submit_client(env)
    with c:
        send(c, message(sender=ALICE), rcpts=(
            "<%s> NOTIFY=NEVER" % FRIEND, "zed@remote.test",
            "<%s> NOTIFY=SUCCESS" % FRIEND, "amy@other.test")).check(250)
    [m] = queued(env)
    text = show(env, m["id"])[0]
    got = re.findall(r"\n  address:      (\S+)\n", text)
    assert got == [FRIEND, "zed@remote.test", "amy@other.test"], text
    # The first RCPT's parameters.
    assert "\n  notify:       NEVER\n" in text, text
    assert "SUCCESS" not in text, text


def test_kill9_after_250_keeps_the_message(env):
    msg = message(sender=ALICE, to=FRIEND, subject="durable")
    c, _ = submit_client(env)
    send(c, msg).check(250, "2.0.0")
    env.kill_all()
    c.close()
    [m] = queued(env)
    assert show(env, m["id"])[1].endswith(msg)


def test_mx_never_relays(env):
    with env.client("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>").check(250)
        c.cmd("RCPT TO:<%s>" % FRIEND).check(550, "5.7.1")
        c.cmd("RCPT TO:<%s>" % BOB).check(250)
        c.quit()
    assert queued(env) == []


def test_requiretls_only_on_tls(env):
    with env.client("clear") as c:
        kws = c.ehlo().keywords()
        assert "REQUIRETLS" not in kws, kws
        c.cmd("AUTH PLAIN " + plain(ALICE, PASSWORDS[ALICE])).check(235)
        c.cmd("MAIL FROM:<%s> REQUIRETLS" % ALICE).check(555, "5.5.4")
        # Without it, relaying works in the clear too (auth_plaintext).
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        c.cmd("RSET").check(250)
        c.quit()
    c, kws = submit_client(env)
    with c:
        assert "REQUIRETLS" in kws
        c.cmd("MAIL FROM:<%s> REQUIRETLS=yes" % ALICE).check(501, "5.5.4")
        send(c, message(sender=ALICE), rcpts=(BOB,),
             mail="MAIL FROM:<%s> REQUIRETLS" % ALICE).check(250, "2.0.0")
    # Local delivery of a REQUIRETLS message is fine.
    assert env.count(BOB) == 1


def test_no_queue_keeps_the_temporary_refusal(poshtad):
    env = start_smtp(poshtad, listeners=("submission",))
    c, _ = submit_client(env)
    with c:
        c.cmd("MAIL FROM:<%s>" % ALICE).check(250)
        r = c.cmd("RCPT TO:<%s>" % FRIEND).check(451, "4.7.1")
        assert "no mail queue" in r.texts[-1], r


# ---- DKIM --------------------------------------------------------------

def keygen(root, domain, selector, *args):
    """poshtactl dkim keygen: the key file and the TXT record."""
    conf = os.path.join(root, "keygen.conf")
    with open(conf, "w") as f:
        f.write("state_dir %s;\n" % quote(os.path.join(root, "kstate")))
    out = subprocess.run([POSHTACTL, "-c", conf, "dkim", "keygen", domain,
                          selector, "--out",
                          os.path.join(root, selector + ".key")] + list(args),
                         capture_output=True, text=True, timeout=TIMEOUT * 6)
    assert out.returncode == 0, out.stderr
    comment, record = out.stdout.splitlines()
    m = re.fullmatch(r'(\S+) IN TXT \(((?: "[^"]*")+) \)', record)
    assert m, record
    txt = "".join(re.findall(r'"([^"]*)"', m.group(2))).encode()
    return comment[len("; private key: "):], m.group(1), txt


@pytest.fixture
def signing(poshtad):
    root = poshtad.root
    rsa_key, rsa_name, rsa_txt = keygen(root, "example.test", "rsa")
    ed_key, ed_name, ed_txt = keygen(root, "signed.test", "ed",
                                     "--type", "ed25519")
    records = {rsa_name: rsa_txt, ed_name: ed_txt}
    opts = {"dkim_sign": "example.test rsa %s;\n\tdkim_sign signed.test ed %s"
            % (quote(rsa_key), quote(ed_key))}
    env = start_smtp(poshtad, listeners=("submission",), queue=True,
                     smtp_opts=opts)
    return env, lambda name, timeout=5: records.get(name.decode())


def signed_body(env, msg):
    c, _ = submit_client(env)
    with c:
        send(c, msg).check(250, "2.0.0")
    m = queued(env)[-1]
    return show(env, m["id"])[1]


@pytest.mark.parametrize("sender,alg", [
    ("Alice <alice@Example.TEST>", b"rsa-sha256"),
    ('"Ed, the signer" <ed@signed.test>, other@example.test',
     b"ed25519-sha256")])
def test_dkim_signed_at_enqueue(signing, sender, alg):
    env, dns = signing
    msg = message(sender=sender, to=FRIEND, subject="signed")
    body = signed_body(env, msg)
    assert body.startswith(b"DKIM-Signature:"), body[:200]
    assert b"a=" + alg in body.split(b"\r\nReceived:")[0], body[:400]
    assert body.endswith(msg)
    assert dkim.verify(body, dnsfunc=dns), body[:600]
    assert "dkim signed id=" in env.poshtad.log()


def test_dkim_other_domain_unsigned(signing):
    env, _ = signing
    msg = message(sender="someone@unsigned.test", to=FRIEND)
    body = signed_body(env, msg)
    assert body.startswith(b"Received:"), body[:200]
    assert b"DKIM-Signature" not in body


def test_dkim_bad_key_fails_the_worker(poshtad):
    """No config-time check for a module's key files: the worker's start
    fails, naming the directive's file:line and the key file."""
    bad = os.path.join(poshtad.root, "bad.key")
    with open(bad, "w") as f:
        f.write("not a key\n")
    start_smtp(poshtad, listeners=("submission",), queue=True,
               smtp_opts={"dkim_sign": "example.test sel %s" % quote(bad)})
    poshtad.wait_log(r"module 'smtp': worker init failed: \S+:\d+: "
                     r"dkim_sign example\.test: %s" % re.escape(bad))


def test_dkim_failure_queues_unsigned(poshtad):
    """A header past libpsdkim's bound (1 MiB) cannot be signed: the
    message is still queued, unsigned, and the failure logged."""
    root = poshtad.root
    key, _, _ = keygen(root, "example.test", "rsa")
    env = start_smtp(poshtad, listeners=("submission",), queue=True,
                     smtp_opts={"max_message_size": "4m",
                                "dkim_sign": "example.test rsa %s"
                                % quote(key)})
    pad = "".join("X-Pad-%d: %s\r\n" % (i, "p" * 70) for i in range(16000))
    msg = message(sender=ALICE, to=FRIEND, extra=pad)
    body = signed_body(env, msg)
    assert body.startswith(b"Received:"), body[:200]
    assert body.endswith(msg)
    env.poshtad.wait_log(r"dkim signing failed, queued unsigned id=\S+ "
                         r"domain=example\.test")
