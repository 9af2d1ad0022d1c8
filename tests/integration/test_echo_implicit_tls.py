"""Implicit TLS on echo: handshake on connect, SNI picks the second
certificate, min_version is enforced."""

import ssl

import pytest


def test_implicit_tls(poshtad, certs):
    poshtad.start(tls=True, listen={"echos": {"tls": "implicit"}})
    with poshtad.connect("echos", certs.client_context()) as c:
        c.expect("+OK Poshta echo ready")
        c.command("TLS?", "+OK tls")
        c.command("STARTTLS", "-ERR TLS not available")
        c.command("secret", "secret")
        cert = c.sock.getpeercert()
        assert ("DNS", "localhost") in cert["subjectAltName"]
        c.command("QUIT", "+OK bye")


def test_sni_picks_second_certificate(poshtad, certs):
    poshtad.start(tls=True, listen={"echos": {"tls": "implicit"}})
    ctx = certs.client_context(certs.other_cert)
    with poshtad.connect("echos", ctx, server_hostname="other.test") as c:
        c.expect("+OK Poshta echo ready")
        cert = c.sock.getpeercert()
        assert ("DNS", "other.test") in cert["subjectAltName"]
        c.command("hi", "hi")
    # Without that name the default certificate comes back, which a client
    # trusting only other.test rejects.
    with pytest.raises(ssl.SSLCertVerificationError):
        poshtad.connect("echos", ctx, server_hostname="localhost")


def test_plaintext_client_gets_no_greeting(poshtad):
    poshtad.start(tls=True, listen={"echos": {"tls": "implicit"}})
    with poshtad.connect("echos") as c:
        c.sendline("hello")
        try:
            data = c.sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            data = b""
        assert b"+OK" not in data and b"hello" not in data


def test_min_version(poshtad, certs):
    poshtad.start(tls=False, top="tls {\n\tcertificate \"%s\";\n"
                  "\tkey \"%s\";\n\tmin_version TLSv1.3;\n}"
                  % (certs.cert, certs.key),
                  listen={"echos": {"tls": "implicit"}})
    old = certs.client_context()
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        poshtad.connect("echos", old)
    with poshtad.connect("echos", certs.client_context()) as c:
        assert c.sock.version() == "TLSv1.3"
        c.expect("+OK Poshta echo ready")
