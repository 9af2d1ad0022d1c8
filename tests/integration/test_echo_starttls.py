"""STARTTLS on echo: plain first, then TLS verified against our test CA;
"tls required" refuses echo before TLS."""

import ssl

import pytest


def test_starttls(poshtad, certs):
    poshtad.start(tls=True, listen={"echo": {"tls": "starttls"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("TLS?", "+OK plain")
        c.command("before", "before")
        c.command("STARTTLS", "+OK begin TLS")
        c.starttls(certs.client_context())
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        c.command("TLS?", "+OK tls")
        c.command("after", "after")
        c.command("STARTTLS", "-ERR TLS not available")
        c.command("QUIT", "+OK bye")
    poshtad.wait_log(r"echo: \[[^]]+\] starttls tls=\"TLSv1\.[23] ")


def test_starttls_is_default_with_a_certificate(poshtad, certs):
    poshtad.start(tls=True)
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("STARTTLS", "+OK begin TLS")
        c.starttls(certs.client_context())
        c.command("TLS?", "+OK tls")


def test_tls_none_refuses_starttls(poshtad):
    poshtad.start(tls=True, listen={"echo": {"tls": "none"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("STARTTLS", "-ERR TLS not available")
        c.command("still plain", "still plain")


def test_tls_required(poshtad, certs):
    poshtad.start(tls=True, listen={"echo": {"tls": "required"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("hello", "-ERR TLS required")
        c.command("TLS?", "+OK plain")
        c.command("STARTTLS", "+OK begin TLS")
        c.starttls(certs.client_context())
        c.command("hello", "hello")


def test_untrusted_client_fails_handshake(poshtad, certs):
    poshtad.start(tls=True)
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("STARTTLS", "+OK begin TLS")
        with pytest.raises(ssl.SSLCertVerificationError):
            # Trusts only the other certificate: localhost's must fail.
            c.starttls(certs.client_context(certs.other_cert))
