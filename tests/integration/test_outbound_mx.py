"""Outbound delivery by DNS (issue #7), end to end on loopback: a message
submitted by alice@local.test goes by MX preference (RFC 5321 5.1) to a
receiving poshtad at 127.0.0.2 and not to the one at 127.0.0.3 (pref 20);
the next MX when the first refuses the connection; the A record when
there is no MX; null MX (RFC 7505) and NXDOMAIN fail at once, without a
connection; a 550 for an unknown user fails the recipient with one DSN
in alice's INBOX; a message that needs SMTPUTF8 (RFC 6531 3.4) to a
server without it fails with that reason; a domain in U-labels is routed
by its A-labels. One dnsmasq, one sender and
two receivers for the module: each test has its domain or recipient."""

import pytest

from outbound_helpers import DEAD, dsn_fields, msg, received_tls, World
from outbound_helpers import scripted  # noqa: F401 (a fixture)

MX1, MX2 = "127.0.0.2", "127.0.0.3"
NULL_A = "127.0.0.4"    # the A record of the null-MX domain: a scripted MX
UTF8_MX = "127.0.0.6"   # a scripted MX without SMTPUTF8
IDN = "xn--bcher-kva.test"  # b\u00fccher.test in A-labels (RFC 5891)
DOMAINS = ("pref.test", "fallback.test", "amx.test", IDN)


@pytest.fixture(scope="module")
def world(sdk, certs, tmp_path_factory):
    w = World(sdk, certs, str(tmp_path_factory.mktemp("outbound-mx")))
    try:
        dns = w.dnsmasq()
        dns.mx("pref.test", "mx1.pref.test", 10)
        dns.mx("pref.test", "mx2.pref.test", 20)
        dns.a("mx1.pref.test", MX1).a("mx2.pref.test", MX2)
        dns.mx("fallback.test", "mx1.fallback.test", 10)
        dns.mx("fallback.test", "mx2.fallback.test", 20)
        dns.a("mx1.fallback.test", DEAD).a("mx2.fallback.test", MX2)
        dns.a("amx.test", MX1)
        dns.mx(IDN, "mx1.pref.test", 10)
        dns.null_mx("nullmx.test").a("nullmx.test", NULL_A)
        dns.mx("utf8.test", "mx.utf8.test", 10).a("mx.utf8.test", UTF8_MX)
        dns.start()
        w.mx1 = w.receiver(MX1, DOMAINS, name="mx1")
        w.mx2 = w.receiver(MX2, DOMAINS, name="mx2")
        w.out = w.sender()
        yield w
    finally:
        w.close()


def test_mx_preference(world):
    to = "bob@pref.test"
    world.out.submit([to], msg("by preference", to))
    got = world.mx1.wait(to, "by preference")
    # Sent by the sender, with alice as the envelope sender.
    assert got.split(b"\n")[0] == b"Return-Path: <alice@local.test>", got
    assert world.out.wait_state(to, ("delivered", None))
    assert world.mx2.find(to, "by preference") == []


def test_fallback_when_first_mx_refuses(world):
    to = "bob@fallback.test"
    world.out.submit([to], msg("fallback", to))
    world.mx2.wait(to, "fallback")
    assert world.mx1.find(to, "fallback") == []
    assert world.out.wait_state(to, ("delivered", None))


def test_a_record_without_mx(world):
    to = "bob@amx.test"
    world.out.submit([to], msg("implicit mx", to))
    world.mx1.wait(to, "implicit mx")
    assert world.mx2.find(to, "implicit mx") == []


def test_idn_domain_routed_by_its_a_labels(world):
    """RFC 6531 3.2: mail to bob@b\u00fccher.test goes to the MX of
    xn--bcher-kva.test, and the receiving poshtad, given the address as
    written (SMTPUTF8), delivers it to the user it knows by the A-labels."""
    to = "bob@b\u00fccher.test"
    world.out.submit([to], msg("idn route", to), mail_options=["SMTPUTF8"])
    world.mx1.wait("bob@" + IDN, "idn route")
    assert world.out.wait_state(to, ("delivered", None))
    assert world.mx2.find("bob@" + IDN, "idn route") == []


def test_unknown_user_550_one_dsn(world):
    to = "nobody@pref.test"
    world.out.submit([to], msg("to nobody", to))
    # Failed with the receiver's reply (or gone once reported).
    r = world.out.wait_state(to, ("failed", None))
    if r["state"] == "failed":
        assert r["diag"].startswith("mx1.pref.test[127.0.0.2]: 550 5.1.1"), r
    dsn = world.out.wait_dsn(to)
    fields = dsn_fields(dsn)
    assert fields.get("action", "").lower() == "failed", fields
    assert fields.get("status") == "5.1.1", fields
    assert len(world.out.dsns(to)) == 1


def test_null_mx_fails_at_once(world, scripted):
    # The A record must not be used (RFC 7505 3).
    mx = scripted(NULL_A, world.port)
    to = "bob@nullmx.test"
    world.out.submit([to], msg("null mx", to))
    r = world.out.wait_state(to, ("failed", None))
    if r["state"] == "failed":
        # A local decision at the first attempt: no host in the diag.
        assert r["attempts"] <= 1 and r["diag"].startswith("5."), r
    dsn = world.out.wait_dsn(to)
    fields = dsn_fields(dsn)
    assert fields.get("action", "").lower() == "failed", fields
    assert fields.get("status", "").startswith("5."), fields
    assert mx.sessions == []


def test_nxdomain_fails_at_once(world):
    to = "bob@nosuch.test"
    world.out.submit([to], msg("nxdomain", to))
    r = world.out.wait_state(to, ("failed", None))
    if r["state"] == "failed":
        assert r["attempts"] <= 1 and r["diag"].startswith("5.1.2"), r
    dsn = world.out.wait_dsn(to)
    fields = dsn_fields(dsn)
    assert fields.get("action", "").lower() == "failed", fields
    assert fields.get("status") == "5.1.2", fields


def test_smtputf8_needed_but_not_offered(world, scripted):
    mx = scripted(UTF8_MX, world.port)  # PIPELINING 8BITMIME ENH only
    to = "j\u00fcrgen@utf8.test"
    world.out.submit([to], msg("utf8 rcpt", to), mail_options=["SMTPUTF8"])
    r = world.out.wait_state(to, ("failed", None))
    if r["state"] == "failed":
        assert "SMTPUTF8" in r["diag"] and "5.6.7" in r["diag"], r
    # Refused before MAIL: the server saw no transaction.
    assert all(s.mails == [] and s.data == [] for s in mx.sessions), \
        mx.sessions
    dsn = world.out.wait_dsn("utf8.test")
    assert b"SMTPUTF8" in dsn, dsn


def test_received_plain_without_tls(world):
    """The receivers here offer no STARTTLS: the Received field says so
    (the counterpart of test_outbound_tls's check that it shows TLS)."""
    to = "bob@amx.test"
    world.out.submit([to], msg("plain hop", to))
    top, tls = received_tls(world.mx1.wait(to, "plain hop"))
    assert not tls, top
    assert "ESMTP" in top, top
