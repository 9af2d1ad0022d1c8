"""max_line in a listen block: a line up to the bound is delivered whole;
a longer one is answered once with "-ERR line too long", its rest is
dropped up to its line end, and the next line arrives intact, however the
bytes were split on the way."""

import time

import pytest

GREETING = "+OK Poshta echo ready"
MAX = 64


@pytest.fixture
def client(poshtad):
    poshtad.start(listen={"echo": {"max_line": str(MAX)}})
    with poshtad.connect() as c:
        c.expect(GREETING)
        yield c


def test_line_at_the_bound_is_echoed(client):
    line = "".join(chr(ord("a") + i % 26) for i in range(MAX))
    assert len(line) == MAX
    client.command(line, line)


def test_line_one_over_the_bound_is_refused(client):
    client.command("y" * (MAX + 1), "-ERR line too long")
    client.command("after", "after")


def test_long_line_then_next_line_in_one_write(client):
    # Both lines in one segment: the reader must cut at the first LF.
    client.send("x" * 100 + "\r\n" + "next line intact\r\n")
    client.expect("-ERR line too long")
    client.expect("next line intact")
    client.command("and another", "and another")


def test_long_line_in_pieces(client):
    """Over the bound before its LF has arrived: answered at once, and the
    rest, arriving later, does not leak into the next line."""
    client.send("z" * 100)
    client.expect("-ERR line too long")
    time.sleep(0.1)
    client.send("TAIL-OF-LONG-LINE" * 10)
    time.sleep(0.1)
    client.send("\r\nnext\r\n")
    client.expect("next")
    client.command("QUIT", "+OK bye")
    client.expect_eof()


def test_crlf_split_at_the_bound(client):
    """A line of exactly MAX bytes whose CR arrives before its LF is not
    too long: the CR may be the first half of the line end."""
    line = "c" * MAX
    client.send(line + "\r")
    time.sleep(0.2)
    client.send("\n")
    client.expect(line)
    client.command("ok", "ok")


def test_many_long_lines_answered_once_each(client):
    client.send("".join("%d%s\r\n" % (i, "w" * 200) for i in range(5))
                + "done\r\n")
    for _ in range(5):
        client.expect("-ERR line too long")
    client.expect("done")
