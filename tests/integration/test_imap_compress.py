"""COMPRESS=DEFLATE (RFC 4978) through the core's deflate layer: the OK
goes out plain, everything after it is raw deflate both ways, over plain
text and under TLS; a second COMPRESS gets NO [COMPRESSIONACTIVE]; not
before login; a corrupt stream ends the connection."""

import zlib

import pytest

from imap_helpers import shared_imap


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory,
                           listeners=("imap", "imaps", "smtp"))


class Deflated:
    """The client's side of RFC 4978 over a LineClient's socket."""

    def __init__(self, lc):
        self.lc = lc
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.dec = zlib.decompressobj(-15)
        self.buf = self.dec.decompress(lc.buf)
        lc.buf = b""

    def send(self, text):
        self.lc.sock.sendall(self.comp.compress(text.encode()) +
                             self.comp.flush(zlib.Z_SYNC_FLUSH))

    def until(self, tag):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                data = self.lc.sock.recv(65536)
                assert data, "closed; unread %r" % self.buf
                self.buf += self.dec.decompress(data)
            line, _, self.buf = self.buf.partition(b"\r\n")
            if line.startswith(tag.encode() + b" "):
                return lines, line
            lines.append(line)


def compressed(r):
    lines, tagged = r.command("COMPRESS DEFLATE")
    assert tagged == b"t2 OK DEFLATE active"
    return Deflated(r.lc)


@pytest.mark.parametrize("name", ["imap", "imaps"])
def test_compressed_session(env, name):
    user = env.new_user()
    for i in range(3):
        env.deliver(user, subject="message %d" % i)
    r = env.raw(name, tls=name == "imaps")
    r.ok('LOGIN %s "%s"' % (user, env.passwords[user]))
    z = compressed(r)
    z.send("a SELECT INBOX\r\n")
    lines, tagged = z.until("a")
    assert tagged == b"a OK [READ-WRITE] SELECT completed"
    assert b"* 3 EXISTS" in lines
    # Pipelined commands, and a long line, both ways.
    z.send("b NOOP\r\nc ID (\"name\" \"%s\")\r\nd CAPABILITY\r\n"
           % ("x" * 1000))
    for tag in "bcd":
        lines, tagged = z.until(tag)
        assert tagged.startswith(tag.encode() + b" OK")
    assert b"COMPRESS=DEFLATE" in lines[0]
    z.send("e COMPRESS DEFLATE\r\n")
    lines, tagged = z.until("e")
    assert tagged == b"e NO [COMPRESSIONACTIVE] Compression is active " \
                     b"already"
    z.send("f LOGOUT\r\n")
    lines, tagged = z.until("f")
    assert lines == [b"* BYE Logging out"]


def test_not_before_login(env):
    r = env.raw()
    lines, tagged = r.command("COMPRESS DEFLATE")
    assert tagged == b"t1 BAD Log in first"


def test_only_deflate(env):
    r = env.login()
    lines, tagged = r.command("COMPRESS LZW")
    assert tagged.startswith(b"t2 BAD")


def test_corrupt_stream_closes(env):
    r = env.login()
    compressed(r)
    r.lc.sock.sendall(b"\xff" * 64)
    r.lc.expect_eof()
