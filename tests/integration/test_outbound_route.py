"""Static routes and the smarthost (issue #7), end to end on loopback, no
DNS: `route routed.test 127.0.0.2:PORT;` delivers the domain's mail to
that address and port (not outbound_port); `relayhost 127.0.0.3:PORT {
auth USER "PASS"; tls required; }` sends every other domain's mail to a
poshtad submission listener over STARTTLS (its certificate verified with
outbound_ca_file) after AUTH as USER, which the relay's Received field
records; and never sends the password to a relay without TLS (a
scripted relay offering AUTH but no STARTTLS, with `tls opportunistic`):
the message waits in the queue instead."""

import re

import pytest

from conftest import free_port, quote
from outbound_helpers import (RECEIVER_PASSWORD, ScriptedMX, msg,
                              received_tls, World)
from outbound_helpers import ca  # noqa: F401 (a fixture)

ROUTED = "127.0.0.2"
RELAY = "127.0.0.3"
CLEAR_RELAY = "127.0.0.4"
RELAY_USER = "relayuser@relayed.test"


@pytest.fixture(scope="module")
def routed(sdk, certs, tmp_path_factory):
    w = World(sdk, certs, str(tmp_path_factory.mktemp("outbound-route")))
    try:
        # Not outbound_port: the route's own port is used.
        w.route_port = free_port()
        w.rx = w.receiver(ROUTED, ["routed.test"], port=w.route_port)
        w.out = w.sender(dns=False, smtp=[
            "route routed.test %s:%d" % (ROUTED, w.route_port)])
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def relayed(sdk, certs, ca, tmp_path_factory):
    w = World(sdk, certs, str(tmp_path_factory.mktemp("outbound-relay")))
    try:
        w.relay = w.receiver(
            RELAY, ["relayed.test"], users=("bob", "relayuser"),
            role="submission", tls="required", name="relay",
            cert=ca.leaf("IP:" + RELAY),
            smtp_opts={"sender_login_match": "off"})
        w.out = w.sender(dns=False, smtp=[
            "outbound_ca_file %s" % quote(ca.cert),
            "relayhost %s:%d {\n\t\tauth %s %s;\n\t\ttls required;\n\t}"
            % (RELAY, w.port, quote(RELAY_USER), quote(RECEIVER_PASSWORD))])
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def cleartext(sdk, certs, tmp_path_factory):
    w = World(sdk, certs, str(tmp_path_factory.mktemp("outbound-clear")))
    w.relay = ScriptedMX(CLEAR_RELAY, w.port, name="clear.relay.test",
                         extensions=("PIPELINING", "8BITMIME",
                                     "ENHANCEDSTATUSCODES",
                                     "AUTH PLAIN LOGIN"))
    try:
        w.out = w.sender(dns=False, smtp=[
            "relayhost %s:%d {\n\t\tauth %s %s;\n\t\ttls opportunistic;"
            "\n\t}" % (CLEAR_RELAY, w.port, quote(RELAY_USER),
                        quote(RECEIVER_PASSWORD))])
        yield w
    finally:
        w.relay.close()
        w.close()


def test_static_route_with_port(routed):
    to = "bob@routed.test"
    routed.out.submit([to], msg("routed", to))
    got = routed.rx.wait(to, "routed")
    assert got.split(b"\n")[0] == b"Return-Path: <alice@local.test>", got
    assert routed.out.wait_state(to, ("delivered", None))


def test_relayhost_auth_and_tls(relayed):
    to = "bob@relayed.test"
    relayed.out.submit([to], msg("via the relay", to))
    got = relayed.relay.wait(to, "via the relay")
    top, tls = received_tls(got)
    assert tls, top
    # Authenticated submission (RFC 3848 ESMTPSA) as the relayhost user.
    assert "ESMTPSA" in top, top
    assert re.search(r"authenticated as %s" % re.escape(RELAY_USER), top), top
    assert got.split(b"\n")[0] == b"Return-Path: <alice@local.test>", got


def test_relayhost_no_password_in_clear(cleartext):
    to = "bob@relayed.test"
    cleartext.out.submit([to], msg("no clear password", to))
    r = cleartext.out.wait_state(to, ("deferred",))
    assert r["diag"].startswith("%s[%s]: " % (CLEAR_RELAY, CLEAR_RELAY)), r
    assert "4.7.11" in r["diag"] or "TLS" in r["diag"], r
    sessions = list(cleartext.relay.sessions)
    assert sessions, "the relay was never tried"
    for s in sessions:
        assert not any(c.upper().startswith("AUTH") for c in s.commands), s
        assert s.mails == [] and s.data == [], s
