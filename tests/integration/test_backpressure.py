"""A client that sends without reading: the server stops reading it once
its replies back up, its memory stays bounded, and every reply arrives in
order once the client reads."""

import select
import time

from conftest import rss_kib

LINE = 512                  # bytes per line, CR LF included (echo: max 1000)
CAP = 96 * 1024 * 1024      # never send more than this
RSS_GROWTH_KIB = 32 * 1024  # what the worker may grow by meanwhile


def line(i):
    return b"%08d %s\r\n" % (i, b"x" * (LINE - 11))


def test_client_that_does_not_read(poshtad):
    poshtad.start(workers=1)
    [worker] = poshtad.workers()
    c = poshtad.connect(rcvbuf=64 * 1024, sndbuf=64 * 1024)
    c.expect("+OK Poshta echo ready")
    base = rss_kib(worker)

    sock = c.sock
    sock.setblocking(False)
    sent, chunk, stalled = 0, b"", None
    while sent < CAP:
        if not chunk:
            first = sent // LINE
            chunk = b"".join(line(i) for i in range(first, first + 64))
        try:
            n = sock.send(chunk)
            sent += n
            chunk = chunk[n:]
            stalled = None
        except BlockingIOError:
            now = time.monotonic()
            stalled = stalled or now
            if now - stalled > 1.5:
                break
            select.select([], [sock], [], 0.1)
    assert sent < CAP, "the server read %d bytes it could not answer" % sent
    grown = rss_kib(worker) - base
    assert grown < RSS_GROWTH_KIB, "worker grew by %d KiB" % grown

    # Now read: send the rest of the batch and QUIT, check every reply.
    total = (sent + len(chunk)) // LINE
    chunk += b"QUIT\r\n"
    want, buf = 0, b""
    deadline = time.monotonic() + 60
    done = False
    while not done:
        assert time.monotonic() < deadline, "replies stopped at %d" % want
        wr = [sock] if chunk else []
        r, w, _ = select.select([sock], wr, [], 1)
        if w:
            try:
                chunk = chunk[sock.send(chunk):]
            except BlockingIOError:
                pass
        if not r:
            continue
        data = sock.recv(1 << 20)
        assert data, "closed after %d of %d replies" % (want, total)
        buf += data
        lines = buf.split(b"\r\n")
        buf = lines.pop()
        for got in lines:
            if want == total:
                assert got == b"+OK bye"
                done = True
                break
            assert got == line(want)[:-2], "reply %d: %r" % (want, got[:20])
            want += 1
    c.close()
