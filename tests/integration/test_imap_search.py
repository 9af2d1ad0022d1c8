"""imap.so's SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4): every
search key on messages that match and messages that do not, nesting with
OR, NOT and parentheses, sequence and UID sets, RFC 2047 subjects in four
charsets found with UTF-8 strings, case-insensitive non-ASCII, base64 and
quoted-printable bodies, a match across a read boundary of a big body,
dates in the zones they were given in, sizes, CHARSET refusals, ESEARCH
(RFC 4731), SEARCHRES (RFC 5182), IMAP4rev2's ESEARCH, MODSEQ (RFC 7162
3.1.5), and BAD for malformed or too deeply nested keys.

The mailbox is imported with poshtactl import-mbox, which keeps flags
(Status:/X-Status:) and internal dates (From_ lines, UTC): there is no
STORE yet. A message also arrives through SMTP, for RECENT."""

import base64
import calendar
import re
import time

import pytest

from imap_helpers import shared_imap

# ---- The mailbox ------------------------------------------------------------


def b64(text, charset):
    return base64.b64encode(text.encode(charset)).decode()


def wrap(data, width=76):
    return "\n".join(data[i:i + width] for i in range(0, len(data), width))


def utc(y, mo, d, h=12, mi=0):
    return calendar.timegm((y, mo, d, h, mi, 0))


# Body offset 65536 is a read boundary (64 KiB reads from the body's
# start) and a boundary of the 16 KiB pieces searched at a time.
STRADDLE_AT = 65536 - 4


def big_body():
    """About 200 KB of CRLF lines of 100 octets, "STRADDLE" across body
    offset 65536, "needleatend" near the end; returned with LF lines."""
    body = bytearray(b"x" * 98 + b"\r\n") * 2000
    assert b"\r" not in body[STRADDLE_AT:STRADDLE_AT + 8]
    body[STRADDLE_AT:STRADDLE_AT + 8] = b"STRADDLE"
    end = len(body) - 50
    body[end:end + 11] = b"needleatend"
    return bytes(body).replace(b"\r\n", b"\n")


# (flags as Status/X-Status letters, internal date, header, body); LF
# lines, 8-bit where a part says so.
MESSAGES = [
    # 1: plain ASCII, seen.
    ("R", utc(2001, 1, 1),
     "From: Alice Example <alice@a.test>\n"
     "To: Bob <bob@b.test>\n"
     "Subject: Hello World\n"
     "Date: Mon, 01 Jan 2001 10:00:00 +0000\n"
     "X-Custom: alpha beta\n"
     "Message-ID: <1@a.test>\n",
     b"plain body text here\n"),
    # 2: UTF-8 subject, ISO-8859-1 From, quoted-printable Latin-1 body,
    # sent on 15 Jun in its own zone (16 Jun in UTC), answered.
    ("A", utc(2010, 6, 16, 3),
     "From: =?ISO-8859-1?Q?Andr=E9?= <andre@c.test>\n"
     "To: alice@example.test\n"
     "Cc: Carol <carol@c.test>\n"
     "Subject: =?UTF-8?B?%s?=\n"
     "Date: Tue, 15 Jun 2010 23:30:00 -0500\n"
     "MIME-Version: 1.0\n"
     "Content-Type: text/plain; charset=iso-8859-1\n"
     "Content-Transfer-Encoding: quoted-printable\n"
     % b64("Привіт світ", "utf-8"),
     b"caf=E9 cr=E8me br=FBl=E9e\n"),
    # 3: KOI8-R subject, base64 UTF-8 body, flagged.
    ("F", utc(2015, 3, 10),
     "From: Ivan <ivan@r.test>\n"
     "To: alice@example.test\n"
     "Subject: =?KOI8-R?B?%s?=\n"
     "Date: 10 Mar 2015 08:00:00 +0300\n"
     "MIME-Version: 1.0\n"
     "Content-Type: text/plain; charset=utf-8\n"
     "Content-Transfer-Encoding: base64\n"
     % b64("Съешь булок", "koi8-r"),
     wrap(b64("Съешь же ещё этих мягких французских булок, да выпей "
              "чаю.\n" * 3, "utf-8")).encode() + b"\n"),
    # 4: windows-1251 subject, a multipart with an 8-bit windows-1251
    # text and a base64 attachment (not text: not searched), Bcc, deleted
    # draft.
    ("DT", utc(2020, 2, 29),
     "From: Dave <dave@d.test>\n"
     "To: alice@example.test\n"
     "Bcc: secret@d.test\n"
     "Subject: =?windows-1251?B?%s?=\n"
     "Date: Sat, 29 Feb 2020 12:00:00 +0000\n"
     "MIME-Version: 1.0\n"
     'Content-Type: multipart/mixed; boundary="XYZ"\n'
     % b64("Звіт за лютий", "cp1251"),
     b"preamble\n"
     b"--XYZ\n"
     b"Content-Type: text/plain; charset=windows-1251\n"
     b"Content-Transfer-Encoding: 8bit\n\n"
     + "Квартальний звіт додається\n".encode("cp1251") +
     b"--XYZ\n"
     b"Content-Type: application/octet-stream\n"
     b"Content-Transfer-Encoding: base64\n\n"
     + base64.b64encode(b"binaryattachmentword") + b"\n"
     b"--XYZ--\n"),
    # 5: big, no Date: (SENT* use the internal date), no flags.
    ("", utc(2005, 5, 5, 10),
     "From: Big <big@b.test>\n"
     "To: alice@example.test\n"
     "Subject: big one\n",
     big_body()),
    # 6: ISO-8859-1 subject, sent on 16 Jun in its own zone (15 Jun in
    # UTC), seen and flagged.
    ("RF", utc(2010, 6, 15, 22),
     "From: bob@b.test\n"
     "To: carol@c.test\n"
     "Subject: =?ISO-8859-1?Q?R=E9union_notes?=\n"
     "Date: Wed, 16 Jun 2010 01:00:00 +0200\n"
     "Content-Type: text/plain; charset=us-ascii\n",
     b"The meeting is at noon. Hello there.\n"),
]


def stored(header, body):
    """The message as the store keeps it (CRLF lines): its RFC822.SIZE."""
    data = header.encode("utf-8") + b"\n" + body
    return data.replace(b"\n", b"\r\n")


def mbox(messages):
    out = b""
    for flags, date, header, body in messages:
        out += b"From MAILER-DAEMON " + time.strftime(
            "%a %b %e %H:%M:%S %Y", time.gmtime(date)).encode() + b"\n"
        out += header.encode("utf-8")
        if "R" in flags:
            out += b"Status: RO\n"
        x = "".join(c for c in "ADFT" if c in flags)
        if x:
            out += b"X-Status: " + x.encode() + b"\n"
        out += b"\n" + body + b"\n"
    return out


def import_mbox(env, tmp_path, user, messages, mailbox="INBOX"):
    path = tmp_path / ("import-%s.mbox" % mailbox)
    path.write_bytes(mbox(messages))
    env.ctl.ok("import-mbox", user, str(path), "--mailbox", mailbox)


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_imap(sdk, certs, tmp_path_factory,
                           imap_opts={"max_bad_commands": "100"})


@pytest.fixture
def user(env, tmp_path):
    """The test's own user, with MESSAGES in its INBOX."""
    address = env.new_user()
    import_mbox(env, tmp_path, address, MESSAGES)
    return address


@pytest.fixture
def r(env, user):
    c = env.login(user)
    c.ok("SELECT INBOX")
    return c


# ---- Helpers ----------------------------------------------------------------


def search(c, text, uid=False):
    """The numbers of "* SEARCH" for "[UID ]SEARCH text", which must
    succeed with exactly one SEARCH response."""
    lines, tagged = c.command(("UID " if uid else "") + "SEARCH " + text)
    assert b" OK " in tagged, (text, lines, tagged)
    found = [l for l in lines if l.startswith(b"* SEARCH")]
    assert len(found) == 1, (text, lines)
    return [int(n) for n in found[0].split(b" (MODSEQ ")[0].split()[2:]]


def search_lit(c, prefix, string, suffix="", uid=False):
    """SEARCH with a UTF-8 string sent as a non-synchronizing literal."""
    data = string.encode("utf-8")
    tag = c.tag()
    c.send(("%s %sSEARCH %s {%d+}\r\n" % (tag, "UID " if uid else "",
                                         prefix, len(data))).encode()
           + data + suffix.encode() + b"\r\n")
    lines, tagged = c.until(tag)
    assert b" OK " in tagged, (prefix, string, lines, tagged)
    found = [l for l in lines if l.startswith(b"* SEARCH")]
    assert len(found) == 1, lines
    return [int(n) for n in found[0].split()[2:]]


def bad(c, text):
    lines, tagged = c.command(text)
    assert tagged.split(b" ")[1] == b"BAD", (text, lines, tagged)
    assert not [l for l in lines if l.startswith((b"* SEARCH",
                                                 b"* ESEARCH"))]
    return tagged


# ---- Keys on metadata -------------------------------------------------------


def test_flags(r):
    expect = {
        "ALL": [1, 2, 3, 4, 5, 6],
        "SEEN": [1, 6], "UNSEEN": [2, 3, 4, 5],
        "ANSWERED": [2], "UNANSWERED": [1, 3, 4, 5, 6],
        "FLAGGED": [3, 6], "UNFLAGGED": [1, 2, 4, 5],
        "DELETED": [4], "UNDELETED": [1, 2, 3, 5, 6],
        "DRAFT": [4], "UNDRAFT": [1, 2, 3, 5, 6],
        "seen flagged": [6], "Seen Unflagged": [1],
    }
    for key, want in expect.items():
        assert search(r, key) == want, key


def test_recent_new_old(env, user):
    first = env.login(user)
    first.ok("SELECT INBOX")   # claims all six as \Recent
    assert search(first, "RECENT") == [1, 2, 3, 4, 5, 6]
    assert search(first, "NEW") == [2, 3, 4, 5]
    assert search(first, "OLD") == []
    second = env.login(user)
    second.ok("SELECT INBOX")  # nothing left to claim
    assert search(second, "RECENT") == []
    assert search(second, "NEW") == []
    assert search(second, "OLD") == [1, 2, 3, 4, 5, 6]
    env.deliver(user, subject="fresh")
    deadline = time.monotonic() + 10
    while b"* 7 EXISTS" not in b"".join(second.ok("NOOP")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert search(second, "RECENT") == [7]
    assert search(second, "NEW") == [7]
    assert search(second, "OLD") == [1, 2, 3, 4, 5, 6]
    assert search(second, "SUBJECT fresh") == [7]


def test_keyword(r):
    assert search(r, "KEYWORD $Forwarded") == []
    assert search(r, "UNKEYWORD $Forwarded") == [1, 2, 3, 4, 5, 6]
    assert search(r, "NOT KEYWORD Junk") == [1, 2, 3, 4, 5, 6]
    r.ok("STORE 2,5 +FLAGS.SILENT ($Forwarded)")
    assert search(r, "KEYWORD $forwarded") == [2, 5]
    assert search(r, "UNKEYWORD $Forwarded") == [1, 3, 4, 6]
    assert search(r, "KEYWORD $Forwarded NOT KEYWORD Junk") == [2, 5]


def test_sizes(r):
    sizes = [len(stored(h, b)) for _, _, h, b in MESSAGES]
    s1 = sizes[0]
    assert search(r, "LARGER %d" % (s1 - 1)) == [
        i + 1 for i, s in enumerate(sizes) if s > s1 - 1]
    assert 1 in search(r, "LARGER %d" % (s1 - 1))
    assert 1 not in search(r, "LARGER %d" % s1)
    assert 1 in search(r, "SMALLER %d" % (s1 + 1))
    assert 1 not in search(r, "SMALLER %d" % s1)
    assert search(r, "LARGER 100000") == [5]
    assert search(r, "SMALLER 100000") == [1, 2, 3, 4, 6]
    assert search(r, "LARGER 100000 SMALLER %d" % sizes[4]) == []
    assert search(r, "LARGER 100000 SMALLER %d" % (sizes[4] + 1)) == [5]


def test_internal_dates(r):
    assert search(r, "BEFORE 1-Jan-2002") == [1]
    assert search(r, "BEFORE 1-Jan-2001") == []
    assert search(r, "ON 1-Jan-2001") == [1]
    assert search(r, 'ON "01-jan-2001"') == [1]
    assert search(r, "ON 16-Jun-2010") == [2]
    assert search(r, "ON 15-Jun-2010") == [6]
    assert search(r, "SINCE 1-Jan-2015") == [3, 4]
    assert search(r, "SINCE 29-Feb-2020") == [4]
    assert search(r, "SINCE 1-Mar-2020") == []


def test_sent_dates(r):
    # The Date: field's day in its own zone: message 2 was sent on 15
    # Jun at -0500 (16 Jun in UTC), message 6 on 16 Jun at +0200 (15 Jun
    # in UTC).
    assert search(r, "SENTON 15-Jun-2010") == [2]
    assert search(r, "SENTON 16-Jun-2010") == [6]
    assert search(r, "SENTBEFORE 1-Jan-2002") == [1]
    assert search(r, "SENTBEFORE 1-Jan-2001") == []
    assert search(r, "SENTSINCE 1-Mar-2015") == [3, 4]
    assert search(r, "SENTSINCE 11-Mar-2015") == [4]
    # No Date: field: the internal date stands in.
    assert search(r, "SENTON 5-May-2005") == [5]


def test_sets(env, user, tmp_path):
    # Message 2 of four is deleted and CLOSE expunges it, so UIDs 1 3 4
    # are numbers 1 2 3.
    import_mbox(env, tmp_path, user, [
        ("D" if i == 1 else "", utc(2021, 1, 1), "Subject: b%d\n" % i,
         b"y\n") for i in range(4)], "Sets")
    c = env.login(user)
    c.ok("SELECT Sets")
    c.ok("CLOSE")
    c.ok("SELECT Sets")
    assert search(c, "ALL") == [1, 2, 3]
    assert search(c, "ALL", uid=True) == [1, 3, 4]
    assert search(c, "2") == [2]
    assert search(c, "2", uid=True) == [3]
    assert search(c, "1,3") == [1, 3]
    assert search(c, "2:*") == [2, 3]
    assert search(c, "*") == [3]
    assert search(c, "UID 3") == [2]
    assert search(c, "UID 3:4", uid=True) == [3, 4]
    assert search(c, "UID 2") == []
    assert search(c, "UID *", uid=True) == [4]
    assert search(c, "UID 1:3 2:3", uid=True) == [3]
    assert search(c, "NOT 2") == [1, 3]
    assert search(c, "OR 1 UID 4") == [1, 3]
    bad(c, "SEARCH 4")
    bad(c, "SEARCH 1:2:3")
    bad(c, "SEARCH UID x")
    assert search(c, "ALL") == [1, 2, 3]


# ---- Keys on the header and the bodies --------------------------------------


def test_header_keys(r):
    assert search(r, "FROM alice") == [1]
    assert search(r, 'FROM "Alice Example"') == [1]
    assert search(r, "FROM nobody") == []
    assert search(r, "TO bob") == [1]
    assert search(r, "TO carol") == [6]
    assert search(r, "CC carol") == [2]
    assert search(r, "CC bob") == []
    assert search(r, "BCC secret") == [4]
    assert search(r, "BCC carol") == []
    assert search(r, "SUBJECT hello") == [1]
    assert search(r, 'SUBJECT "hello WORLD"') == [1]
    assert search(r, "SUBJECT goodbye") == []
    assert search(r, "HEADER X-Custom beta") == [1]
    assert search(r, "HEADER x-custom ALPHA") == [1]
    assert search(r, "HEADER X-Custom gamma") == []
    assert search(r, 'HEADER Message-ID ""') == [1]
    assert search(r, 'HEADER X-Missing ""') == []
    assert search(r, 'HEADER Content-Transfer-Encoding base64') == [3]


def test_encoded_words(r):
    # UTF-8, ISO-8859-1, KOI8-R and windows-1251 words, a UTF-8 string.
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "привіт") == [2]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "ПРИВІТ") == [2]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "Світ") == [2]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "réunion") == [6]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "RÉUNION") == [6]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "булок") == [3]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "СЪЕШЬ") == [3]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "звіт за") == [4]
    assert search_lit(r, "CHARSET UTF-8 SUBJECT", "звіту") == []
    assert search_lit(r, "CHARSET UTF-8 FROM", "andré") == [2]
    assert search_lit(r, "CHARSET UTF-8 FROM", "ANDRÉ") == [2]
    assert search_lit(r, "CHARSET UTF-8 FROM", "andrè") == []
    # Without CHARSET the string is US-ASCII, or UTF-8 as sent.
    assert search_lit(r, "SUBJECT", "привіт") == [2]
    assert search(r, "CHARSET US-ASCII SUBJECT world") == [1]
    assert search(r, "CHARSET utf-8 SUBJECT world") == [1]


def test_imaplib(env, user):
    m = env.imaplib(user)
    m.select("INBOX")
    assert m.search(None, "SEEN") == ("OK", [b"1 6"])
    assert m.search(None, "(OR ANSWERED DELETED)") == ("OK", [b"2 4"])
    assert m.uid("SEARCH", "FLAGGED") == ("OK", [b"3 6"])
    m.literal = "привіт".encode()
    assert m.search("UTF-8", "SUBJECT") == ("OK", [b"2"])
    m.literal = "МЯГКИХ".encode()
    assert m.search("UTF-8", "BODY") == ("OK", [b"3"])
    m.logout()


def test_long_header(env, user):
    """A header of some 9 KB, past the first read of a header (2 KiB),
    with fields after it, and a body that looks like fields; LF lines in
    a second message whose header ends at once."""
    m = env.imaplib(user)
    assert m.create("LongHeader")[0] == "OK"
    filler = "".join("X-Filler-%d: %s\r\n" % (i, "y" * 70)
                     for i in range(120))
    long = ("From: a@b.test\r\nSubject: first\r\n" + filler +
            "X-Late: needle\r\nSubject: second\r\n\r\n"
            "X-Body: notafield\r\n")
    assert m.append("LongHeader", None, None, long.encode())[0] == "OK"
    assert m.append("LongHeader", None, None,
                    b"\nX-Body: notafield\n")[0] == "OK"
    m.select("LongHeader")
    assert m.search(None, "HEADER X-Late needle") == ("OK", [b"1"])
    assert m.search(None, "SUBJECT second") == ("OK", [b"1"])
    assert m.search(None, "SUBJECT first") == ("OK", [b"1"])
    assert m.search(None, "HEADER X-Filler-119 yyy") == ("OK", [b"1"])
    assert m.search(None, "HEADER X-Body notafield") == ("OK", [b""])
    assert m.search(None, "BODY notafield") == ("OK", [b"1 2"])
    m.logout()


def test_utf8_accept_quoted(env, user):
    r = env.login(user)
    r.ok("ENABLE UTF8=ACCEPT")
    r.ok("SELECT INBOX")
    lines, tagged = r.command('SEARCH SUBJECT "привіт"')
    assert b" OK " in tagged, (lines, tagged)
    assert [l for l in lines if l.startswith(b"* SEARCH")] == [b"* SEARCH 2"]


def test_bodies(r):
    assert search(r, "BODY plain") == [1]
    assert search(r, "BODY Subject") == []          # a header, not a body
    assert search(r, "BODY hello") == [6]
    assert search(r, "TEXT hello") == [1, 6]        # header or body
    assert search(r, "TEXT X-Custom") == [1]
    assert search(r, "TEXT zzzz") == []
    # quoted-printable ISO-8859-1
    assert search_lit(r, "CHARSET UTF-8 BODY", "crème") == [2]
    assert search_lit(r, "CHARSET UTF-8 BODY", "CRÈME BRÛLÉE") == [2]
    assert search(r, "BODY caf=E9") == []
    # base64 UTF-8
    assert search_lit(r, "CHARSET UTF-8 BODY", "мягких французских") == [3]
    assert search_lit(r, "CHARSET UTF-8 TEXT", "ВЫПЕЙ ЧАЮ") == [3]
    assert search(r, "BODY ZXllc2hi") == []         # base64 as written
    # 8-bit windows-1251 in a multipart; the attachment is not text
    assert search_lit(r, "CHARSET UTF-8 BODY", "квартальний ЗВІТ") == [4]
    assert search(r, "BODY preamble") == []
    assert search(r, "BODY binaryattachmentword") == []
    assert search(r, 'BODY ""') == [1, 2, 3, 4, 5, 6]


def test_big_body(r):
    assert search(r, "BODY STRADDLE") == [5]
    assert search(r, "BODY xstraddlex") == [5]
    assert search(r, "TEXT needleatend") == [5]
    assert search(r, "BODY STRADDLEY") == []
    # header keys first: the big body need not be read for this one
    assert search(r, "SUBJECT big BODY straddle") == [5]
    assert search(r, "NOT BODY straddle") == [1, 2, 3, 4, 6]


def test_nesting(r):
    assert search(r, "OR SEEN FLAGGED") == [1, 3, 6]
    assert search(r, "NOT SEEN") == [2, 3, 4, 5]
    assert search(r, "NOT (SEEN)") == [2, 3, 4, 5]
    assert search(r, "(OR SEEN ANSWERED) NOT FLAGGED") == [1, 2]
    assert search(r, "OR (SEEN FLAGGED) (DELETED DRAFT)") == [4, 6]
    assert search(r, "NOT NOT SEEN") == [1, 6]
    assert search(r, "OR OR SEEN ANSWERED DELETED") == [1, 2, 4, 6]
    assert search(r, "OR SUBJECT hello BODY hello") == [1, 6]
    assert search(r, "NOT OR SUBJECT hello BODY hello") == [2, 3, 4, 5]
    assert search(r, "((SEEN) (NOT (FLAGGED)))") == [1]
    assert search(r, "OR (FROM alice SEEN) (TO carol UNSEEN)") == [1]
    assert search(r, "NOT (OR 1:2 UID 6) UNDELETED") == [3, 5]
    assert search(r, "UID 2:5 OR SUBJECT hello FROM dave") == [4]
    # "NOT" 50 times is still all; nesting at the limit is fine.
    assert search(r, "NOT " * 50 + "ALL") == [1, 2, 3, 4, 5, 6]
    assert search(r, "NOT " * 63 + "SEEN") == [2, 3, 4, 5]


# ---- Limits and errors ------------------------------------------------------


def test_limits(r):
    t = bad(r, "SEARCH " + "NOT " * 200 + "ALL")
    assert b"nested" in t
    t = bad(r, "SEARCH " + "OR ALL " * 100 + "ALL")
    assert b"nested" in t
    t = bad(r, "SEARCH " + "(" * 30 + "NOT " * 40 + "ALL" + ")" * 30)
    assert b"nested" in t
    t = bad(r, "SEARCH " + " ".join(["SEEN"] * 1500))
    assert b"Too many search keys" in t
    t = bad(r, "SEARCH " + " ".join(["BODY x"] * 101))
    assert b"Too many search strings" in t
    assert search(r, " ".join(["SUBJECT o"] * 100)) == [1, 5, 6]
    # Still working.
    assert search(r, "SEEN") == [1, 6]


def test_bad_keys(r):
    for text in ("SEARCH", "SEARCH FOO", "SEARCH SINCE 32-Jan-2001",
                 "SEARCH SINCE 1-Foo-2001", "SEARCH BEFORE",
                 "SEARCH LARGER abc", "SEARCH SMALLER",
                 "SEARCH OR SEEN", "SEARCH NOT", "SEARCH ()",
                 "SEARCH HEADER", "SEARCH HEADER Subject",
                 'SEARCH HEADER "" x', "SEARCH SUBJECT",
                 "SEARCH KEYWORD", "SEARCH KEYWORD \\Seen",
                 "SEARCH RETURN (BOGUS) ALL", "SEARCH RETURN ALL",
                 "SEARCH MODSEQ", "SEARCH MODSEQ x",
                 'SEARCH MODSEQ "/flags/\\\\Seen" bogus 1',
                 "SEARCH CHARSET UTF-8", "SEARCH UID", "SEARCH 0",
                 "SEARCH SEEN )"):
        bad(r, text)
        r.ok("NOOP")
    # A string that is not UTF-8.
    tag = r.tag()
    r.send(tag.encode() + b" SEARCH SUBJECT {2+}\r\n\xff\xfe\r\n")
    lines, tagged = r.until(tag)
    assert tagged.split(b" ")[1] == b"BAD", tagged
    assert search(r, "SEEN") == [1, 6]


def test_badcharset(r):
    lines, tagged = r.command("SEARCH CHARSET ISO-8859-1 SUBJECT x")
    assert tagged.endswith(b" NO [BADCHARSET (UTF-8 US-ASCII)] "
                           b"Only UTF-8 and US-ASCII are supported"), tagged
    assert lines == []
    lines, tagged = r.command("SEARCH CHARSET KOI8-R ALL")
    assert b"NO [BADCHARSET (UTF-8 US-ASCII)]" in tagged


# ---- Results: ESEARCH, SEARCHRES, IMAP4rev2, MODSEQ -------------------------


def untagged(c, text, prefix=b"* ESEARCH"):
    lines, tagged = c.command(text)
    assert b" OK " in tagged, (text, lines, tagged)
    return [l for l in lines if l.startswith(prefix)], tagged.split(b" ")[0]


def test_esearch(r):
    lines, _ = r.command("CAPABILITY")
    words = lines[0].split()
    assert b"ESEARCH" in words and b"SEARCHRES" in words
    got, tag = untagged(r, "SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
    assert got == [b'* ESEARCH (TAG "%s") MIN 2 MAX 5 COUNT 4 ALL 2:5'
                   % tag]
    got, tag = untagged(r, "UID SEARCH RETURN (MIN MAX COUNT ALL) SEEN")
    assert got == [b'* ESEARCH (TAG "%s") UID MIN 1 MAX 6 COUNT 2 ALL 1,6'
                   % tag]
    got, tag = untagged(r, "SEARCH RETURN () OR SEEN FLAGGED")
    assert got == [b'* ESEARCH (TAG "%s") ALL 1,3,6' % tag]
    got, tag = untagged(r, "SEARCH RETURN (COUNT) FLAGGED")
    assert got == [b'* ESEARCH (TAG "%s") COUNT 2' % tag]
    got, tag = untagged(r, "SEARCH RETURN (count min) SUBJECT nothing")
    assert got == [b'* ESEARCH (TAG "%s") COUNT 0' % tag]
    got, tag = untagged(r, "SEARCH RETURN (MIN MAX) SUBJECT nothing")
    assert got == [b'* ESEARCH (TAG "%s")' % tag]
    lines, _ = r.command("SEARCH RETURN (ALL) SEEN")
    assert not [l for l in lines if l.startswith(b"* SEARCH")]


def test_searchres(r):
    # SAVE alone answers nothing but OK.
    lines, tagged = r.command("SEARCH RETURN (SAVE) FLAGGED")
    assert lines == [] and b" OK " in tagged
    assert search(r, "$") == [3, 6]
    assert search(r, "UID $", uid=True) == [3, 6]
    assert search(r, "NOT $") == [1, 2, 4, 5]
    assert search(r, "$ SEEN") == [6]
    # A later SAVE replaces it, using the old one first.
    got, tag = untagged(r, "UID SEARCH RETURN (SAVE ALL) OR $ ANSWERED")
    assert got == [b'* ESEARCH (TAG "%s") UID ALL 2:3,6' % tag]
    assert search(r, "$") == [2, 3, 6]
    # With MIN (and no ALL or COUNT) "$" is the MIN message alone.
    got, tag = untagged(r, "SEARCH RETURN (SAVE MIN) UNSEEN")
    assert got == [b'* ESEARCH (TAG "%s") MIN 2' % tag]
    assert search(r, "$") == [2]
    got, tag = untagged(r, "SEARCH RETURN (SAVE MIN MAX) UNSEEN")
    assert search(r, "$") == [2, 5]
    # A SAVE that fails leaves "$" empty.
    bad(r, "SEARCH RETURN (SAVE) BOGUS")
    assert search(r, "$") == []
    r.ok("SEARCH RETURN (SAVE) ALL")
    lines, tagged = r.command("SEARCH RETURN (SAVE) CHARSET X ALL")
    assert b"BADCHARSET" in tagged
    assert search(r, "$") == []
    # "$" in another command (FETCH and STORE are not there yet).
    r.ok("SEARCH RETURN (SAVE) SEEN")
    assert search(r, "UID $", uid=True) == [1, 6]
    # SELECT forgets it.
    r.ok("SELECT INBOX")
    assert search(r, "$") == []


def test_rev2_esearch(env, user):
    r = env.login(user)
    r.ok("ENABLE IMAP4rev2")
    r.ok("SELECT INBOX")
    got, tag = untagged(r, "SEARCH SEEN")
    assert got == [b'* ESEARCH (TAG "%s") ALL 1,6' % tag]
    got, tag = untagged(r, "UID SEARCH FLAGGED")
    assert got == [b'* ESEARCH (TAG "%s") UID ALL 3,6' % tag]
    got, tag = untagged(r, "SEARCH SUBJECT nothing")
    assert got == [b'* ESEARCH (TAG "%s")' % tag]
    got, tag = untagged(r, "SEARCH RETURN (COUNT) SEEN")
    assert got == [b'* ESEARCH (TAG "%s") COUNT 2' % tag]
    lines, _ = r.command("SEARCH SEEN")
    assert not [l for l in lines if l.startswith(b"* SEARCH")]
    lines, tagged = r.command("SEARCH RETURN (SAVE) SEEN")
    assert lines == [] and b" OK " in tagged


def test_modseq(env, user):
    c = env.login(user)
    lines = c.ok("SELECT INBOX")
    assert not [l for l in lines if b"HIGHESTMODSEQ" in l]
    got, _ = untagged(c, "SEARCH MODSEQ 1", prefix=b"* ")
    m = re.match(rb"^\* SEARCH 1 2 3 4 5 6 \(MODSEQ (\d+)\)$", got[0])
    assert m, got
    modseq = int(m.group(1))
    # It enabled CONDSTORE, which reports HIGHESTMODSEQ once (RFC 7162
    # 3.1), and SELECT tells it from now on.
    assert got[1:] == [b"* OK [HIGHESTMODSEQ %d] Highest" % modseq], got
    got, _ = untagged(c, "SEARCH MODSEQ 1", prefix=b"* ")
    assert len(got) == 1, got
    lines = c.ok("SELECT INBOX")
    assert [l for l in lines if b"[HIGHESTMODSEQ %d]" % modseq in l], lines
    assert search(c, "MODSEQ %d" % modseq) == [1, 2, 3, 4, 5, 6]
    got, _ = untagged(c, "SEARCH MODSEQ %d" % (modseq + 1),
                      prefix=b"* SEARCH")
    assert got == [b"* SEARCH"]
    got, _ = untagged(c, 'SEARCH MODSEQ "/flags/\\\\Seen" all 1 SEEN',
                      prefix=b"* SEARCH")
    assert got == [b"* SEARCH 1 6 (MODSEQ %d)" % modseq]
    got, tag = untagged(c, "SEARCH RETURN (COUNT) MODSEQ 1")
    assert got == [b'* ESEARCH (TAG "%s") COUNT 6 MODSEQ %d'
                   % (tag, modseq)]


def test_encoded_message(env, user):
    """An encoded message/rfc822 (RFC 2046 5.2.1 forbids it; FETCH shows
    its encoded text as the message, as Dovecot does) is searched as its
    decoded text, like any leaf."""
    inner = base64.b64encode(b"From: inner@e.test\r\nSubject: hidden\r\n\r\n"
                             b"innermostword\r\n")
    msg = (b"From: outer@e.test\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: message/rfc822\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + inner +
           b"\r\n--b--\r\n")
    c = env.login(user)
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    lines, tagged = c.until("a")
    assert tagged.startswith(b"a OK "), (lines, tagged)
    c.ok("SELECT INBOX")
    assert search(c, "BODY innermostword") == [7]
    assert search(c, "TEXT inner@e.test") == [7]
    assert search(c, "BODY " + inner[:12].decode()) == []
