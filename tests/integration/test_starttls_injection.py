"""STARTTLS command injection (CVE-2011-0411 style): plaintext pipelined
after STARTTLS must be discarded, never executed inside the TLS session;
a "tls required" listener echoes nothing before TLS."""

import time


def test_injected_plaintext_is_discarded(poshtad, certs):
    poshtad.start(tls=True, listen={"echo": {"tls": "starttls"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.send("STARTTLS\r\nINJECTED\r\n")
        c.expect("+OK begin TLS")
        c.starttls(certs.client_context())
        c.command("TLS?", "+OK tls")
        c.command("after", "after")
        c.sendline("QUIT")
        lines = []
        try:
            while True:
                lines.append(c.readline())
        except EOFError:
            pass
        assert lines == ["+OK bye"], lines
    assert "INJECTED" not in poshtad.log()


def test_injection_split_over_two_writes(poshtad, certs):
    """The injected line arrives after STARTTLS but before the client
    starts its handshake: still plaintext, still discarded."""
    poshtad.start(tls=True, listen={"echo": {"tls": "starttls"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.sendline("STARTTLS")
        c.expect("+OK begin TLS")
        c.send("INJECTED\r\n")
        time.sleep(0.1)
        # The server now waits for a ClientHello; our stray line is not
        # one, so the handshake fails rather than echo it.
        try:
            c.starttls(certs.client_context())
            c.sendline("TLS?")
            line = c.readline()
        except (OSError, EOFError):
            line = None
        assert line != "INJECTED"


def test_required_refuses_before_tls(poshtad, certs):
    poshtad.start(tls=True, listen={"echo": {"tls": "required"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.send("one\r\ntwo\r\nSTARTTLS\r\nthree\r\n")
        c.expect("-ERR TLS required")
        c.expect("-ERR TLS required")
        c.expect("+OK begin TLS")
        c.starttls(certs.client_context())
        c.command("four", "four")
        c.command("QUIT", "+OK bye")
        c.expect_eof()
