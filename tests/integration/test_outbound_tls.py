"""TLS on outbound delivery (issue #7), end to end on loopback: STARTTLS
to a receiver that offers it by default (opportunistic: the receiver's
Received field shows TLS, even with a certificate for another name);
`tls_policy DOMAIN required` delivers over a certificate verified with
outbound_ca_file for the MX host name, and never in clear to a receiver
without STARTTLS nor to one whose certificate names another host (the
recipient stays deferred with the reason, attempt after attempt).
REQUIRETLS (RFC 8689): a message submitted with MAIL FROM ... REQUIRETLS
fails (DSN, 5.7.30) rather than go to a receiver without TLS or one that
does not offer REQUIRETLS, and is delivered, REQUIRETLS passed on, to one
with a verified certificate that offers it."""

import pytest

from conftest import quote
from outbound_helpers import dsn_fields, msg, received_tls, World
from outbound_helpers import ca, scripted  # noqa: F401 (fixtures)

TLS_MX, PLAIN_MX, WRONG_MX = "127.0.0.2", "127.0.0.3", "127.0.0.4"
RT_OK, RT_NOKW = "127.0.0.5", "127.0.0.6"   # scripted, TLS
TLS_DOMAINS = ("opp.test", "req.test", "rt.test")
PLAIN_DOMAINS = ("reqplain.test", "rtplain.test")
WRONG_DOMAINS = ("oppwrong.test", "reqwrong.test")


@pytest.fixture(scope="module")
def world(sdk, certs, ca, tmp_path_factory):
    w = World(sdk, certs, str(tmp_path_factory.mktemp("outbound-tls")))
    try:
        dns = w.dnsmasq()
        for d in TLS_DOMAINS:
            dns.mx(d, "mx1.remote.test", 10)
        dns.a("mx1.remote.test", TLS_MX)
        for d in PLAIN_DOMAINS:
            dns.mx(d, "mx.plain.test", 10)
        dns.a("mx.plain.test", PLAIN_MX)
        for d in WRONG_DOMAINS:
            dns.mx(d, "mx.wrong.test", 10)
        dns.a("mx.wrong.test", WRONG_MX)
        dns.mx("rtok.test", "mx.rtok.test", 10).a("mx.rtok.test", RT_OK)
        dns.mx("rtnokw.test", "mx.rtnokw.test", 10)
        dns.a("mx.rtnokw.test", RT_NOKW)
        dns.start()
        w.tls = w.receiver(TLS_MX, TLS_DOMAINS, name="tls",
                           cert=ca.leaf("mx1.remote.test"))
        w.plain = w.receiver(PLAIN_MX, PLAIN_DOMAINS, name="plain")
        w.wrong = w.receiver(WRONG_MX, WRONG_DOMAINS, name="wrong",
                             cert=ca.leaf("wrong.example"))
        w.out = w.sender([
            "outbound_ca_file %s" % quote(ca.cert),
            "tls_policy req.test required",
            "tls_policy reqplain.test required",
            "tls_policy reqwrong.test required",
        ])
        yield w
    finally:
        w.close()


def test_starttls_opportunistic(world):
    to = "bob@opp.test"
    world.out.submit([to], msg("opportunistic", to))
    top, tls = received_tls(world.tls.wait(to, "opportunistic"))
    assert tls, top


def test_opportunistic_does_not_check_the_name(world):
    to = "bob@oppwrong.test"
    world.out.submit([to], msg("any certificate", to))
    top, tls = received_tls(world.wrong.wait(to, "any certificate"))
    assert tls, top


def test_required_verified_delivered(world):
    to = "bob@req.test"
    world.out.submit([to], msg("required ok", to))
    top, tls = received_tls(world.tls.wait(to, "required ok"))
    assert tls, top
    assert world.out.wait_state(to, ("delivered", None))


def test_required_against_plain_receiver(world):
    to = "bob@reqplain.test"
    world.out.submit([to], msg("required plain", to))
    r = world.out.wait_state(to, ("deferred",), r"(?i)tls")
    assert r["diag"].startswith("mx.plain.test[127.0.0.3]: 4"), r
    # Retried, and still never sent in clear.
    world.out.wait_attempts(to, 2)
    assert world.plain.find(to, "required plain") == []
    assert world.out.recipient(to)[1]["state"] == "deferred"


def test_required_wrong_certificate_name(world):
    to = "bob@reqwrong.test"
    world.out.submit([to], msg("required wrong name", to))
    r = world.out.wait_state(to, ("deferred",))
    assert r["diag"].startswith("mx.wrong.test[127.0.0.4]: 4"), r
    world.out.wait_attempts(to, 2)
    assert world.wrong.find(to, "required wrong name") == []
    assert world.out.recipient(to)[1]["state"] == "deferred"


def test_requiretls_not_sent_in_clear(world):
    to = "bob@rtplain.test"
    world.out.submit([to], msg("requiretls plain", to),
                     mail_options=["REQUIRETLS"])
    r = world.out.wait_state(to, ("failed", None))
    if r["state"] == "failed":
        assert r["diag"].startswith("mx.plain.test[127.0.0.3]: "), r
        assert "5.7.30" in r["diag"], r
    dsn = world.out.wait_dsn(to)
    fields = dsn_fields(dsn)
    assert fields.get("action", "").lower() == "failed", fields
    assert fields.get("status") == "5.7.30", fields
    assert world.plain.find(to, "requiretls plain") == []


def test_requiretls_needs_the_keyword(world, ca, scripted):
    mx = scripted(RT_NOKW, world.port, name="mx.rtnokw.test",
                  tls=ca.server_context("mx.rtnokw.test"))
    to = "bob@rtnokw.test"
    world.out.submit([to], msg("requiretls no keyword", to),
                     mail_options=["REQUIRETLS"])
    r = world.out.wait_state(to, ("failed", None))
    if r["state"] == "failed":
        assert "5.7.30" in r["diag"], r
    # TLS was there and verified, but REQUIRETLS was not offered.
    assert mx.sessions and all(s.tls and s.mails == []
                               for s in mx.sessions), mx.sessions
    dsn = world.out.wait_dsn(to)
    assert dsn_fields(dsn).get("status") == "5.7.30", dsn


def test_requiretls_delivered_and_passed_on(world, ca, scripted):
    mx = scripted(RT_OK, world.port, name="mx.rtok.test",
                  tls=ca.server_context("mx.rtok.test"),
                  tls_extensions=("REQUIRETLS",))
    to = "bob@rtok.test"
    world.out.submit([to], msg("requiretls ok", to),
                     mail_options=["REQUIRETLS"])
    world.out.wait_state(to, ("delivered", None))
    (s,) = [s for s in mx.sessions if s.data]
    assert s.tls, s
    assert "REQUIRETLS" in s.mails[0].upper(), s.mails
    assert b"Subject: requiretls ok" in s.data[0]


def test_requiretls_to_a_poshtad_receiver(world):
    """smtp.so offers REQUIRETLS on TLS sessions: the whole path works
    between two poshtads."""
    to = "bob@rt.test"
    world.out.submit([to], msg("requiretls poshtad", to),
                     mail_options=["REQUIRETLS"])
    top, tls = received_tls(world.tls.wait(to, "requiretls poshtad"))
    assert tls, top
