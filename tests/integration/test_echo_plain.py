"""echo.so over plain TCP: greeting, echo, commands, listen-scope prefix,
line bound, idle timeout, and a clean exit on SIGTERM."""

import signal
import time

from conftest import quote


def test_greeting_echo_and_quit(poshtad):
    poshtad.start()
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("hello world", "hello world")
        c.command("TLS?", "+OK plain")
        c.command("STARTTLS", "-ERR TLS not available")
        c.command("", "")
        c.send("bare lf\n")
        c.expect("bare lf")
        c.command("quit", "+OK bye")
        c.expect_eof()
    assert "echo: [" in poshtad.log()  # ps_conn_log: module and conn id


def test_configured_greeting_and_prefix(poshtad):
    poshtad.start(listen={"a": {"prefix": quote("a> ")}, "b": {}},
                  body="echo {\n\tgreeting %s;\n}" % quote("hi there"))
    with poshtad.connect("a") as a, poshtad.connect("b") as b:
        a.expect("+OK hi there")
        b.expect("+OK hi there")
        a.command("one", "a> one")
        b.command("two", "two")
        a.command("QUIT", "+OK bye")
        b.command("Quit", "+OK bye")


def test_pipelined_lines_keep_order(poshtad):
    poshtad.start()
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.send("".join("line %d\r\n" % i for i in range(200)) + "QUIT\r\n")
        for i in range(200):
            c.expect("line %d" % i)
        c.expect("+OK bye")
        c.expect_eof()


def test_line_too_long(poshtad):
    poshtad.start(listen={"echo": {"max_line": "64"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.sendline("x" * 200)
        c.expect("-ERR line too long")
        c.command("short", "short")


def test_idle_timeout(poshtad):
    poshtad.start(listen={"echo": {"idle_timeout": "1s"}})
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        began = time.monotonic()
        c.expect("-ERR idle timeout")
        assert 0.5 < time.monotonic() - began < 5
        c.expect_eof()


def test_sigterm_exits_zero(poshtad):
    poshtad.start(workers=2)
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
    workers = poshtad.workers()
    assert len(workers) == 2
    poshtad.signal(signal.SIGTERM)
    assert poshtad.proc.wait(10) == 0
