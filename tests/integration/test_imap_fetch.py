"""imap.so's FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9, 7.5.2): BODY[]
byte for byte as delivered, HEADER, TEXT, HEADER.FIELDS[.NOT] with the
fields' own text and the final empty line, MIME and part numbers into a
message/rfc822, partial fetches, BINARY (RFC 3516), RFC822.*, implicit
\\Seen (not for PEEK, not in EXAMINE), UID FETCH naming the UID, bad
sequence numbers, MODSEQ and CHANGEDSINCE, VANISHED (EARLIER) (RFC
7162), messages expunged by another session, the structure cache (a
second BODYSTRUCTURE reads no body), and memory that stays flat while a
20 MB message or many 1 MB ones go out."""

import base64
import hashlib
import os
import re
import smtplib
import sqlite3
import time

import pytest

from conftest import SANITIZER_REPORT, Poshtad, rss_kib, sanitized
from imap_helpers import ALICE, start_imap


def crlf(text):
    return text.replace("\n", "\r\n")


PLAIN_HEADER = crlf("""From: "Alice Example" <alice@example.test>
To: Bob <bob@example.test>,
\tcarol@example.test
Subject: fetch me
X-Empty:
x-lower: case
Date: Mon, 7 Feb 1994 21:52:25 -0800
""")
PLAIN_BODY = crlf("line one\nline two\n\nline four, the last\n")
PLAIN = PLAIN_HEADER + "\r\n" + PLAIN_BODY

INNER_HEADER = crlf("""From: Carol <carol@example.test>
Subject: inner
Content-Type: multipart/alternative; boundary="in"
""")
INNER_P1 = crlf("Content-Type: text/plain\n") + "\r\n" + crlf("inner plain\n")
INNER_P2 = crlf("Content-Type: text/html\n") + "\r\n" + crlf("<b>x</b>\n")
INNER_BODY = crlf("--in\n") + INNER_P1 + crlf("\n--in\n") + INNER_P2 + \
    crlf("\n--in--\n")
INNER = INNER_HEADER + "\r\n" + INNER_BODY
ATTACHMENT = bytes(range(256)) * 4 + b"\0end"
P1 = crlf("Content-Type: text/plain\n") + "\r\n" + crlf("See attached.\n")
P2_MIME = crlf("Content-Type: message/rfc822\n") + "\r\n"
P3_MIME = crlf("Content-Type: application/octet-stream\n"
               "Content-Transfer-Encoding: base64\n") + "\r\n"
P3_BODY = crlf(base64.encodebytes(ATTACHMENT).decode())
P4 = crlf("Content-Type: text/plain; charset=iso-8859-1\n"
          "Content-Transfer-Encoding: quoted-printable\n") + "\r\n" + \
    crlf("caf=E9 =\nsoft\n")
P5 = crlf("Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n"
          ) + "\r\n" + crlf("begin 644 x\n`\nend\n")
# A message/rfc822 in base64, which RFC 2046 5.2.1 forbids but mail has.
P6_INNER = crlf("Subject: encoded\n\nbody\n").encode()
P6 = crlf("Content-Type: message/rfc822\n"
          "Content-Transfer-Encoding: base64\n") + "\r\n" + \
    base64.b64encode(P6_INNER).decode()
MIXED = crlf("""From: Dave <dave@example.test>
Subject: parts
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="out"

""") + "".join(crlf("--out\n") + p + "\r\n" for p in
               (P1, P2_MIME + INNER, P3_MIME + P3_BODY, P4, P5, P6)) + \
    crlf("--out--\n")


def start(poshtad, **kw):
    env = start_imap(poshtad, **kw)
    for m in (PLAIN, MIXED):
        env.deliver(ALICE, m.encode())
    return env


@pytest.fixture(scope="module")
def ro(sdk, certs, tmp_path_factory):
    """A server whose two messages are only read (EXAMINE)."""
    server = Poshtad(sdk, certs, str(tmp_path_factory.mktemp("fetch")))
    env = start(server)
    yield env
    server.stop()
    assert not SANITIZER_REPORT.search(server.log()), server.log()


@pytest.fixture(scope="module")
def imap(ro):
    """One session for the tests that only read (a login costs a password
    hash)."""
    r = ro.login()
    r.ok("EXAMINE INBOX")
    yield r
    r.close()


LITERAL = re.compile(rb"((?:BODY|BINARY|RFC822)[^ {]*(?: \([^)]*\)\])?"
                     rb"(?:<\d+>)?) (~?)\{(\d+)\}\r\n")


def items(line):
    """The literal items of a FETCH line: {name: bytes}. Names are the
    response's ("BODY[1.MIME]", "BINARY[3]<0>"); a literal8 is marked
    with a leading "~"."""
    out = {}
    pos = 0
    while True:
        m = LITERAL.search(line, pos)
        if not m:
            return out
        size = int(m.group(3))
        data = line[m.end():m.end() + size]
        assert len(data) == size
        out[(m.group(2) + m.group(1)).decode()] = data
        pos = m.end() + size


def fetch(imap, cmd, ok=b"OK Fetch completed"):
    lines, tagged = imap.command(cmd)
    assert tagged.split(b" ", 1)[1] == ok, (cmd, lines, tagged)
    return lines


def fetch_items(imap, n, atts):
    lines = fetch(imap, "FETCH %d %s" % (n, atts))
    assert len(lines) == 1 and lines[0].startswith(b"* %d FETCH (" % n), \
        lines
    return items(lines[0])


# ---- Sections -------------------------------------------------------------

def test_body_is_the_message_as_delivered(imap):
    got = fetch_items(imap, 1, "(RFC822.SIZE BODY.PEEK[])")
    whole = got["BODY[]"]
    # SMTP delivery put Return-Path and Received on top.
    assert whole.startswith(b"Return-Path: <x@remote.test>\r\nReceived: ")
    assert whole.endswith(PLAIN.encode())
    line = fetch(imap, "FETCH 1 RFC822.SIZE")[0]
    assert line == b"* 1 FETCH (RFC822.SIZE %d)" % len(whole)
    assert fetch_items(imap, 1, "RFC822") == {"RFC822": whole}
    assert fetch_items(imap, 2, "BODY.PEEK[]")["BODY[]"].endswith(
        MIXED.encode())


def test_header_and_text(imap):
    whole = fetch_items(imap, 1, "BODY.PEEK[]")["BODY[]"]
    got = fetch_items(imap, 1, "(BODY.PEEK[HEADER] BODY.PEEK[TEXT] "
                               "RFC822.HEADER RFC822.TEXT)")
    assert got["BODY[HEADER]"].endswith(PLAIN_HEADER.encode() + b"\r\n")
    assert got["BODY[HEADER]"] + got["BODY[TEXT]"] == whole
    assert got["BODY[TEXT]"] == PLAIN_BODY.encode()
    assert got["RFC822.HEADER"] == got["BODY[HEADER]"]
    assert got["RFC822.TEXT"] == got["BODY[TEXT]"]


def test_header_fields_keep_their_text(imap):
    got = fetch_items(imap, 1, "BODY.PEEK[HEADER.FIELDS (to \"SUBJECT\" "
                               "X-Empty X-LOWER Nope)]")
    assert got == {"BODY[HEADER.FIELDS (TO SUBJECT X-EMPTY X-LOWER NOPE)]":
                   crlf("To: Bob <bob@example.test>,\n\tcarol@example.test\n"
                        "Subject: fetch me\nX-Empty:\nx-lower: case\n\n"
                        ).encode()}
    got = fetch_items(imap, 1, "BODY.PEEK[HEADER.FIELDS (NOPE)]")
    assert got == {"BODY[HEADER.FIELDS (NOPE)]": b"\r\n"}
    got = fetch_items(imap, 1, "BODY.PEEK[HEADER.FIELDS.NOT (Return-Path "
                               "received DATE x-empty)]")
    assert list(got.values()) == [crlf(
        "From: \"Alice Example\" <alice@example.test>\nTo: Bob "
        "<bob@example.test>,\n\tcarol@example.test\nSubject: fetch me\n"
        "x-lower: case\n\n").encode()]


def test_part_numbers(imap):
    got = fetch_items(imap, 2, "(BODY.PEEK[1] BODY.PEEK[1.MIME] "
                               "BODY.PEEK[2] BODY.PEEK[2.MIME] "
                               "BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] "
                               "BODY.PEEK[2.1] BODY.PEEK[2.2.MIME] "
                               "BODY.PEEK[2.HEADER.FIELDS (subject)] "
                               "BODY.PEEK[4] BODY.PEEK[1.HEADER] "
                               "BODY.PEEK[9] BODY.PEEK[2.3])")
    assert got == {
        "BODY[1]": crlf("See attached.\n").encode(),
        "BODY[1.MIME]": crlf("Content-Type: text/plain\n\n").encode(),
        "BODY[2]": INNER.encode(),
        "BODY[2.MIME]": P2_MIME.encode(),
        "BODY[2.HEADER]": INNER_HEADER.encode() + b"\r\n",
        "BODY[2.TEXT]": INNER_BODY.encode(),
        "BODY[2.1]": crlf("inner plain\n").encode(),
        "BODY[2.2.MIME]": crlf("Content-Type: text/html\n\n").encode(),
        "BODY[2.HEADER.FIELDS (SUBJECT)]": b"Subject: inner\r\n\r\n",
        "BODY[4]": crlf("caf=E9 =\nsoft\n").encode(),
        # Not a message/rfc822, or no such part: empty, like Dovecot.
        "BODY[1.HEADER]": b"",
        "BODY[9]": b"",
        "BODY[2.3]": b"",
    }
    # A single-part message has part 1: its body.
    assert fetch_items(imap, 1, "BODY.PEEK[1]") == {
        "BODY[1]": PLAIN_BODY.encode()}


def test_partial(imap):
    body = PLAIN_BODY.encode()
    got = fetch_items(imap, 1, "(BODY.PEEK[TEXT]<5.8> BODY.PEEK[TEXT]<20."
                               "1000> BODY.PEEK[TEXT]<1000.5> "
                               "BODY.PEEK[HEADER.FIELDS (SUBJECT)]<9.3>)")
    assert got == {"BODY[TEXT]<5>": body[5:13], "BODY[TEXT]<20>": body[20:],
                   "BODY[TEXT]<1000>": b"",
                   "BODY[HEADER.FIELDS (SUBJECT)]<9>": b"fet"}
    whole = fetch_items(imap, 1, "BODY.PEEK[]")["BODY[]"]
    assert fetch_items(imap, 1, "BODY.PEEK[]<0.17>") == {
        "BODY[]<0>": whole[:17]}


def test_binary(imap, ro):
    caps = ro.login().ok("CAPABILITY")[0].split()
    assert b"BINARY" in caps
    got = fetch_items(imap, 2, "(BINARY.PEEK[3] BINARY.PEEK[4] "
                               "BINARY.PEEK[1] BINARY.PEEK[3]<1020.10>)")
    assert got == {
        "~BINARY[3]": ATTACHMENT,          # holds NULs: a literal8
        "BINARY[4]": b"caf\xe9 soft\r\n",  # quoted-printable decoded
        "BINARY[1]": crlf("See attached.\n").encode(),
        "~BINARY[3]<1020>": ATTACHMENT[1020:1030],
    }
    line = fetch(imap, "FETCH 2 (BINARY.SIZE[3] BINARY.SIZE[4])")[0]
    assert line == b"* 2 FETCH (BINARY.SIZE[3] %d BINARY.SIZE[4] 11)" % (
        len(ATTACHMENT))
    # An encoded message is decoded (RFC 2045 6.4 allows none; mail has).
    assert fetch_items(imap, 2, "BINARY.PEEK[6]") == {"BINARY[6]": P6_INNER}
    # RFC 3516 4.3: an encoding the server cannot decode.
    lines, tagged = imap.command("FETCH 2 BINARY.PEEK[5]")
    assert tagged.split(b" ", 1)[1].startswith(b"NO [UNKNOWN-CTE]")


# ---- \Seen ------------------------------------------------------------------

def flags_of(imap, n):
    line = fetch(imap, "FETCH %d FLAGS" % n)[0]
    return re.search(rb"FLAGS \(([^)]*)\)", line).group(1).split()


def test_implicit_seen(poshtad):
    env = start(poshtad)
    env.deliver(ALICE, PLAIN.encode())
    env.deliver(ALICE, PLAIN.encode())
    r = env.login()
    r.ok("SELECT INBOX")
    # PEEK, RFC822.HEADER, BINARY.PEEK and .SIZE leave \Seen alone.
    for att in ("BODY.PEEK[]", "RFC822.HEADER", "BINARY.PEEK[1]",
                "BINARY.SIZE[1]", "BODY.PEEK[1.MIME]"):
        line = fetch(r, "FETCH 1 %s" % att)
        assert len(line) == 1 and b"FLAGS" not in line[0], (att, line)
    assert b"\\Seen" not in flags_of(r, 1)
    # BODY[...] sets it, and the response shows it; nothing more comes.
    lines = fetch(r, "FETCH 1 BODY[TEXT]")
    assert len(lines) == 1, lines
    assert lines[0].startswith(b"* 1 FETCH (FLAGS (\\Seen \\Recent) "
                               b"BODY[TEXT] {")
    assert b"\\Seen" in flags_of(r, 1)
    # Already seen: no FLAGS unless asked.
    assert b"FLAGS" not in fetch(r, "FETCH 1 BODY[TEXT]")[0]
    lines = fetch(r, "FETCH 2 RFC822.TEXT")
    assert lines[0].startswith(b"* 2 FETCH (FLAGS (\\Seen \\Recent) "
                               b"RFC822.TEXT {")
    lines = fetch(r, "UID FETCH 3 BINARY[1]")
    assert lines[0].startswith(b"* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent) "
                               b"BINARY[1] {")
    lines = fetch(r, "FETCH 4 RFC822")
    assert lines[0].startswith(b"* 4 FETCH (FLAGS (\\Seen \\Recent) "
                               b"RFC822 {")
    assert len(lines) == 1
    # Another session sees the change.
    other = env.login()
    other.ok("EXAMINE INBOX")
    assert b"\\Seen" in flags_of(other, 2)


def test_examine_does_not_set_seen(imap):
    assert b"FLAGS" not in fetch(imap, "FETCH 1 BODY[]")[0]
    assert b"FLAGS" not in fetch(imap, "FETCH 1 (BODY[TEXT] RFC822)")[0]
    assert b"\\Seen" not in flags_of(imap, 1)


# ---- UID FETCH, sequence sets, syntax -------------------------------------

def test_uid_fetch(imap):
    lines = fetch(imap, "UID FETCH 1:* FLAGS")
    assert [re.sub(rb"FLAGS \([^)]*\)", b"FLAGS", x) for x in lines] == [
        b"* 1 FETCH (UID 1 FLAGS)", b"* 2 FETCH (UID 2 FLAGS)"]
    # UIDs that are not there are skipped, silently.
    lines = fetch(imap, "UID FETCH 2,7:9,99 (UID RFC822.SIZE)")
    assert len(lines) == 1 and lines[0].startswith(b"* 2 FETCH (UID 2 "
                                                   b"RFC822.SIZE ")
    assert fetch(imap, "UID FETCH 99:100 FLAGS") == []
    assert fetch(imap, "FETCH 2 (UID)") == [b"* 2 FETCH (UID 2)"]


BAD = [
    "FETCH 3 FLAGS", "FETCH 0 FLAGS", "FETCH 1:5 FLAGS", "FETCH 1 ()",
    "FETCH 1 (ALL)", "FETCH 1 FOO", "FETCH 1 BODY.PEEK",
    "FETCH 1 BODY[HEADER.FIELDS ()]", "FETCH 1 BINARY[TEXT]",
    "FETCH 1 BODY[1.2.FOO]", "FETCH 1 BINARY.SIZE[1]<0.5>",
    "FETCH 1 (FLAGS) (CHANGEDSINCE x)",
    "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)", "FETCH 1",
    "UID FETCH 1 (FLAGS) (VANISHED)", "FETCH 1 (FLAGS) (FOO 1)",
]


def test_bad(imap):
    for cmd in BAD:
        lines, tagged = imap.command(cmd)
        assert lines == [] and b" BAD " in tagged, (cmd, lines, tagged)
        imap.ok("NOOP")  # the run of BADs that ends a session restarts


def test_flags_intact_and_literals_parse_with_imaplib(ro):
    m = ro.imaplib(ALICE)
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)] "
                             "BODY.PEEK[TEXT])")
    assert typ == "OK"
    assert data[0][0] == b"1 (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {21}"
    assert data[0][1] == b"Subject: fetch me\r\n\r\n"
    assert data[1][1] == PLAIN_BODY.encode()
    m.logout()


# ---- CONDSTORE and QRESYNC ---------------------------------------------------

def modseqs(lines):
    return {int(re.search(rb"UID (\d+)", x).group(1)):
            int(re.search(rb"MODSEQ \((\d+)\)", x).group(1)) for x in lines}


def test_modseq_and_changedsince(poshtad):
    env = start(poshtad)
    env.deliver(ALICE, PLAIN.encode())
    r = env.login()
    r.ok("SELECT INBOX")
    before = modseqs(fetch(r, "FETCH 1:* (UID MODSEQ)"))
    assert sorted(before) == [1, 2, 3]
    # MODSEQ enabled CONDSTORE: FLAGS now come with MODSEQ.
    lines = fetch(r, "FETCH 2 BODY[1]")
    m = re.match(rb"\* 2 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \((\d+)\) "
                 rb"BODY\[1\] \{", lines[0])
    assert m and int(m.group(1)) > max(before.values()), lines
    lines = fetch(r, "FETCH 1:* (UID FLAGS) (CHANGEDSINCE %d)"
                  % max(before.values()))
    assert len(lines) == 1 and modseqs(lines) == {2: int(m.group(1))}
    assert lines[0].startswith(b"* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) "
                               b"MODSEQ (")
    assert fetch(r, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %s)"
                 % m.group(1).decode()) == []


def db_expunge(poshtad, uid):
    """What another session's EXPUNGE leaves in storage_sqlite's database
    (no IMAP command of this branch expunges yet): the row gone, a
    tombstone at a new MODSEQ."""
    path = os.path.join(poshtad.state, "mail", "example.test", "alice.db")
    db = sqlite3.connect(path, timeout=10)
    with db:
        box, modseq = db.execute("SELECT id, highestmodseq + 1 FROM mailbox "
                                 "WHERE name = 'INBOX'").fetchone()
        db.execute("DELETE FROM message WHERE mailbox_id = ? AND uid = ?",
                   (box, uid))
        db.execute("INSERT INTO expunged VALUES (?, ?, ?)",
                   (box, uid, modseq))
        db.execute("UPDATE mailbox SET highestmodseq = ? WHERE id = ?",
                   (modseq, box))
    db.close()
    return modseq


def test_expunged_elsewhere_and_vanished(poshtad):
    env = start(poshtad)
    env.deliver(ALICE, PLAIN.encode())
    r = env.login()
    r.ok("SELECT INBOX")
    q = env.login()
    q.ok("ENABLE QRESYNC")
    q.ok("SELECT INBOX")
    highest = max(modseqs(fetch(q, "FETCH 1:* (UID MODSEQ)")).values())
    db_expunge(poshtad, 2)
    # FETCH: the message is left out and no EXPUNGE comes (RFC 3501
    # 7.4.1); NOOP brings it.
    lines = fetch(r, "FETCH 1:3 (UID)")
    assert lines == [b"* 1 FETCH (UID 1)", b"* 3 FETCH (UID 3)"]
    assert r.ok("NOOP") == [b"* 2 EXPUNGE"]
    # UID FETCH (CHANGEDSINCE m VANISHED): VANISHED (EARLIER) first.
    lines = fetch(q, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)"
                  % highest)
    assert lines[0] == b"* VANISHED (EARLIER) 2", lines
    assert not [x for x in lines if b"FETCH" in x]
    lines = fetch(q, "UID FETCH 3:* (FLAGS) (CHANGEDSINCE %d VANISHED)"
                  % highest)
    assert not [x for x in lines if b"EARLIER" in x], lines


# ---- The structure cache --------------------------------------------------

def multipart(i):
    return crlf("""From: sender%d@example.test
Subject: message %d
Content-Type: multipart/mixed; boundary="b%d"

--b%d
Content-Type: text/plain

text %d
--b%d
Content-Type: image/png
Content-Transfer-Encoding: base64

%s
--b%d--
""" % (i, i, i, i, i, i, "QUJD" * (i + 1), i))


def import_mbox(env, messages):
    data = b"".join(b"From x@example.test Thu Jan  1 00:00:00 2026\n" +
                    m.replace("\r\n", "\n").encode() + b"\n"
                    for m in messages)
    env.ctl.run("import-mbox", ALICE, "-", stdin=data)


def structure_log(poshtad):
    return re.findall(r"fetch structures user=\S+ cached=(\d+) parsed=(\d+) "
                      r"parsed_bytes=(\d+)", poshtad.log())


def test_structure_cache_is_used(poshtad):
    env = start_imap(poshtad, log_level="debug")
    n = 150
    import_mbox(env, [multipart(i) for i in range(n)])
    r = env.login()
    r.ok("EXAMINE INBOX")
    first = fetch(r, "FETCH 1:* BODYSTRUCTURE")
    assert len(first) == n
    assert structure_log(poshtad)[-1][:2] == ("0", str(n))
    # Every blob is in the store now, and the second time none is parsed.
    path = os.path.join(poshtad.state, "mail", "example.test", "alice.db")
    db = sqlite3.connect(path, timeout=10)
    assert db.execute("SELECT count(*) FROM body WHERE cache IS NOT NULL"
                      ).fetchone() == (n,)
    assert fetch(r, "FETCH 1:* BODYSTRUCTURE") == first
    assert structure_log(poshtad)[-1] == (str(n), "0", "0")
    # The answer comes from the blob: give message 1 message 2's.
    body = "SELECT body_id FROM message WHERE uid = %d"
    with db:
        db.execute("UPDATE body SET cache = (SELECT cache FROM body WHERE id ="
                   " (%s)) WHERE id = (%s)" % (body % 2, body % 1))
    assert fetch(r, "FETCH 1 BODYSTRUCTURE") == [
        first[1].replace(b"* 2 FETCH", b"* 1 FETCH")]
    # A damaged blob is parsed again, right, and replaced.
    with db:
        db.execute("UPDATE body SET cache = X'50534d4301' WHERE id = (%s)"
                   % (body % 1))
    assert fetch(r, "FETCH 1 BODYSTRUCTURE") == [first[0]]
    assert structure_log(poshtad)[-1][:2] == ("0", "1")
    assert len(db.execute("SELECT cache FROM body WHERE id = (%s)" %
                          (body % 1)).fetchone()[0]) > 5
    # A blob of an older version (1: types lower-cased, one value per
    # parameter) is not read but parsed again and replaced.
    blob = db.execute("SELECT cache FROM body WHERE id = (%s)" %
                      (body % 1)).fetchone()[0]
    assert blob[:4] == b"PSMC" and blob[4] > 1
    with db:
        db.execute("UPDATE body SET cache = ? WHERE id = (%s)" % (body % 1),
                   (blob[:4] + b"\x01" + blob[5:],))
    assert fetch(r, "FETCH 1 BODYSTRUCTURE") == [first[0]]
    assert structure_log(poshtad)[-1][:2] == ("0", "1")
    assert db.execute("SELECT cache FROM body WHERE id = (%s)" %
                      (body % 1)).fetchone()[0] == blob
    db.close()


def test_structure_cached_at_delivery_and_append(poshtad):
    """SMTP delivery and APPEND store the parsed structure with the
    message: the first FETCH BODYSTRUCTURE parses nothing."""
    env = start_imap(poshtad, log_level="debug")
    for i in range(3):
        env.deliver(ALICE, body=multipart(i))
    r = env.login()
    msg = multipart(7).encode()
    r.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    lines, tagged = r.until("a")
    assert tagged.startswith(b"a OK"), tagged
    r.ok("EXAMINE INBOX")
    got = fetch(r, "FETCH 1:* BODYSTRUCTURE")
    assert len(got) == 4 and all(b"\"mixed\"" in g.lower() for g in got)
    assert structure_log(poshtad)[-1] == ("4", "0", "0")


# ---- Memory -------------------------------------------------------------

def one_worker(poshtad):
    workers = poshtad.workers()
    assert len(workers) == 1, (workers, poshtad.log()[-3000:])
    return workers[0]


def read_response(r, tag, worker):
    """Read to the tagged reply in 64 KiB pieces, sampling the worker's
    RSS as the data comes: the bytes and the largest RSS seen."""
    chunks, got, peak, step = [r.lc.buf], len(r.lc.buf), 0, 0
    r.lc.buf = b""
    end = b"\r\n" + tag.encode() + b" "
    while True:
        data = r.lc.sock.recv(65536)
        assert data, "connection closed"
        chunks.append(data)
        got += len(data)
        if got // (1 << 20) != step:
            step = got // (1 << 20)
            peak = max(peak, rss_kib(worker))
        tail = b"".join(chunks[-3:])
        if end in tail and tail.endswith(b"\r\n"):
            break
    return b"".join(chunks), max(peak, rss_kib(worker))


def big_body(size):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR\r\n"
    return line * (size // len(line))


def test_20mb_message_memory_stays_flat(poshtad):
    env = start_imap(poshtad)
    body = big_body(20 << 20)
    msg = b"From: big@example.test\r\nSubject: big\r\n\r\n" + body
    env.deliver(ALICE, msg)
    worker = one_worker(poshtad)
    r = env.login()
    r.ok("SELECT INBOX")
    assert fetch(r, "FETCH 1 BODYSTRUCTURE")[0].endswith(
        b'"7bit" %d %d NIL NIL NIL NIL))' % (len(body), body.count(b"\n")))
    base = rss_kib(worker)
    r.send("t9 FETCH 1 (BODY.PEEK[] BODY.PEEK[TEXT]<1000.5>)\r\n")
    time.sleep(0.5)  # the server fills its output buffer and waits
    stalled = rss_kib(worker)
    data, peak = read_response(r, "t9", worker)
    head = b"* 1 FETCH (BODY[] {"
    assert data.startswith(head)
    size = int(data[len(head):data.index(b"}")])
    whole = data[data.index(b"}\r\n") + 3:][:size]
    assert whole.endswith(msg) and size < len(msg) + 1000
    assert hashlib.sha256(whole[-len(msg):]).digest() == \
        hashlib.sha256(msg).digest()
    assert data.endswith(b" BODY[TEXT]<1000> {5}\r\n" + body[1000:1005] +
                         b")\r\nt9 OK Fetch completed\r\n")
    grown = max(stalled, peak) - base
    # AddressSanitizer's quarantine keeps freed memory: no bound there.
    if not sanitized():
        assert grown < 12 * 1024, "worker grew by %d KiB" % grown


def test_many_large_messages_stream(poshtad):
    """FETCH 1:* of 1 MB messages goes out message by message: the worker
    never holds them all."""
    env = start_imap(poshtad)
    n, body = 24, big_body(1 << 20)
    with smtplib.SMTP("127.0.0.1", env.port("smtp"), timeout=30) as c:
        for i in range(n):
            c.sendmail("x@remote.test", [ALICE],
                       b"Subject: %d\r\n\r\n" % i + body)
    worker = one_worker(poshtad)
    r = env.login()
    r.ok("EXAMINE INBOX")
    base = rss_kib(worker)
    r.send("t9 FETCH 1:* (UID BODY.PEEK[TEXT])\r\n")
    time.sleep(0.3)
    data, peak = read_response(r, "t9", worker)
    starts = re.findall(rb"\* (\d+) FETCH \(UID (\d+) BODY\[TEXT\] "
                        rb"\{(\d+)\}\r\n", data)
    assert [(int(a), int(b), int(c)) for a, b, c in starts] == [
        (i, i, len(body)) for i in range(1, n + 1)]
    assert data.endswith(b")\r\nt9 OK Fetch completed\r\n")
    grown = peak - base
    # AddressSanitizer's quarantine keeps freed memory: no bound there.
    if not sanitized():
        assert grown < 12 * 1024, "worker grew by %d KiB" % grown
