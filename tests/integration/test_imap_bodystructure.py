"""imap.so's FETCH ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC
9051 7.5.2) on realistic messages delivered through SMTP, compared with
the exact strings Dovecot writes: default charset for text parts, line
counts for text and message/rfc822, the envelope and structure of an
encapsulated message, RFC 2231 parameters (continuations joined, an
extended value shown as "name*" as written), MD5, disposition, language,
location, multipart extension data, RFC 2047 words left as they are,
groups, Sender/Reply-To defaulting to From, missing fields as NIL. Sizes
and line counts are worked out here from the pieces each message is
built of, never from the server's answer."""

import re

import pytest

from conftest import SANITIZER_REPORT, Poshtad
from imap_helpers import ALICE, start_imap


def crlf(text):
    return text.replace("\n", "\r\n")


def part(header, body):
    """A MIME entity: header lines, the empty line, the body."""
    return crlf(header) + "\r\n" + body


def multipart(header, boundary, parts, preamble="", epilogue=""):
    """header, then the parts between delimiter lines. Each part's body
    ends right before the CRLF of the next delimiter (RFC 2046 5.1.1)."""
    body = crlf(preamble)
    for p in parts:
        body += "--%s\r\n%s\r\n" % (boundary, p)
    body += "--%s--\r\n%s" % (boundary, crlf(epilogue))
    return crlf(header) + "\r\n" + body


def size(body):
    return len(body.encode())


def lines(body):
    return body.count("\n")


# ---- The messages --------------------------------------------------------

M1_BODY = crlf("Hello Bob,\n\nSee you at the caf\u00e9?\n")
M1 = part("""Date: Mon, 7 Feb 1994 21:52:25 -0800
From: "Alice Example" <alice@example.test>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Alice
To: Bob <bob@example.test>,
 carol@example.test
Cc: undisclosed-recipients:;
Message-ID: <m1@example.test>
In-Reply-To: <m0@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
""", M1_BODY)

M1_ENVELOPE = (
    '("Mon, 7 Feb 1994 21:52:25 -0800" '
    '"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Alice" '
    '(("Alice Example" NIL "alice" "example.test")) '
    '(("Alice Example" NIL "alice" "example.test")) '
    '(("Alice Example" NIL "alice" "example.test")) '
    '(("Bob" NIL "bob" "example.test")(NIL NIL "carol" "example.test")) '
    '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) '
    'NIL "<m0@example.test>" "<m1@example.test>")')
M1_BODYSTRUCTURE = (
    '("text" "plain" ("charset" "UTF-8" "format" "flowed") NIL NIL "8bit" '
    '%d %d NIL NIL NIL NIL)' % (size(M1_BODY), lines(M1_BODY)))
M1_BODY_ONLY = (
    '("text" "plain" ("charset" "UTF-8" "format" "flowed") NIL NIL "8bit" '
    '%d %d)' % (size(M1_BODY), lines(M1_BODY)))

# multipart/alternative, a part without a final line break, a QP part.
M2_P1_BODY = "plain body"
M2_P2_BODY = crlf("<p>html =3D body</p>\n")
M2 = multipart("""From: bob@example.test
Sender: Secretary <secretary@example.test>
Reply-To: "Doe, \\"J\\"" <j@example.test>, list@example.test (The List)
To: Friends: a@example.test, B <b@example.test>;
Subject: alt
Message-ID: <m2@example.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"
""", "b1", [
    part("Content-Type: text/plain; charset=us-ascii\n", M2_P1_BODY),
    part("Content-Type: text/html; charset=us-ascii\n"
         "Content-Transfer-Encoding: quoted-printable\n", M2_P2_BODY),
], preamble="This is a MIME message.\n", epilogue="epilogue\n")

M2_ENVELOPE = (
    '(NIL "alt" ((NIL NIL "bob" "example.test")) '
    '(("Secretary" NIL "secretary" "example.test")) '
    '(("Doe, \\"J\\"" NIL "j" "example.test")'
    '("The List" NIL "list" "example.test")) '
    '((NIL NIL "Friends" NIL)(NIL NIL "a" "example.test")'
    '("B" NIL "b" "example.test")(NIL NIL NIL NIL)) '
    'NIL NIL NIL "<m2@example.test>")')
M2_BODYSTRUCTURE = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d 0 '
    'NIL NIL NIL NIL)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "quoted-printable" '
    '%d %d NIL NIL NIL NIL) "alternative" ("boundary" "b1") NIL NIL NIL)'
    % (size(M2_P1_BODY), size(M2_P2_BODY), lines(M2_P2_BODY)))
M2_BODY_ONLY = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d 0)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "quoted-printable" '
    '%d %d) "alternative")'
    % (size(M2_P1_BODY), size(M2_P2_BODY), lines(M2_P2_BODY)))

# multipart/mixed: text without charset, a base64 attachment with every
# extension field and an RFC 2231 file name, RFC 2231 continuations.
M3_P1_BODY = crlf("Body text here.\n")
M3_ATTACHMENT = bytes(range(256)) * 3
M3_P2_BODY = crlf(__import__("base64").encodebytes(M3_ATTACHMENT).decode())
M3_P3_BODY = crlf("caf=E9\n")
M3 = multipart("""From: Bob <bob@example.test>
To: alice@example.test
Subject: report
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix-1"; report-type=x
Content-Disposition: inline
Content-Language: en
""", "mix-1", [
    part("Content-Type: text/plain\n", M3_P1_BODY),
    part("""Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment;
 filename*=UTF-8''%E2%82%AC%20report.pdf
Content-Transfer-Encoding: base64
Content-ID: <att1@example.test>
Content-Description: The report
Content-Language: en, de
Content-Location: http://example.test/report.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
""", M3_P2_BODY),
    part("""Content-Type: text/plain; charset="iso-8859-1";
 name*0="long"; name*1="name.txt"
Content-Disposition: inline; filename="plain.txt"
Content-Transfer-Encoding: quoted-printable
""", M3_P3_BODY),
])

M3_BODYSTRUCTURE = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d '
    'NIL NIL NIL NIL)'
    '("application" "pdf" ("name" "report.pdf") "<att1@example.test>" '
    '"The report" "base64" %d "Q2hlY2sgSW50ZWdyaXR5IQ==" '
    '("attachment" ("filename*" "UTF-8\'\'%%E2%%82%%AC%%20report.pdf")) '
    '("en" "de") "http://example.test/report.pdf")'
    '("text" "plain" ("charset" "iso-8859-1" "name" "longname.txt") NIL NIL '
    '"quoted-printable" %d %d NIL ("inline" ("filename" "plain.txt")) '
    'NIL NIL) '
    '"mixed" ("boundary" "mix-1" "report-type" "x") ("inline" NIL) ("en") '
    'NIL)'
    % (size(M3_P1_BODY), lines(M3_P1_BODY), size(M3_P2_BODY),
       size(M3_P3_BODY), lines(M3_P3_BODY)))

# A forwarded message: message/rfc822 holding a multipart/alternative.
M4_INNER_P1 = crlf("inner plain\n")
M4_INNER_P2 = crlf("<b>inner</b>\n")
M4_INNER = multipart("""From: Carol <carol@example.test>
To: alice@example.test
Subject: inner
Date: Tue, 1 Mar 2022 10:00:00 +0100
Message-ID: <inner@example.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner"
""", "inner", [
    part("Content-Type: text/plain\n", M4_INNER_P1),
    part("Content-Type: text/html\n", M4_INNER_P2),
])
M4_P1_BODY = crlf("See attached.\n")
M4 = multipart("""From: Dave <dave@example.test>
To: alice@example.test
Subject: Fwd: inner
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"
""", "outer", [
    part("Content-Type: text/plain; charset=us-ascii\n", M4_P1_BODY),
    part("Content-Type: message/rfc822\n"
         "Content-Description: forwarded\n", M4_INNER),
])

M4_INNER_ENVELOPE = (
    '"Tue, 1 Mar 2022 10:00:00 +0100" "inner" '
    '(("Carol" NIL "carol" "example.test")) '
    '(("Carol" NIL "carol" "example.test")) '
    '(("Carol" NIL "carol" "example.test")) '
    '((NIL NIL "alice" "example.test")) NIL NIL NIL "<inner@example.test>"')
M4_INNER_BS = (
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d '
    'NIL NIL NIL NIL)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" %d %d '
    'NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL'
    % (size(M4_INNER_P1), lines(M4_INNER_P1), size(M4_INNER_P2),
       lines(M4_INNER_P2)))
M4_BODYSTRUCTURE = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d '
    'NIL NIL NIL NIL)'
    '("message" "rfc822" NIL NIL "forwarded" "7bit" %d (%s) (%s) %d '
    'NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)'
    % (size(M4_P1_BODY), lines(M4_P1_BODY), size(M4_INNER),
       M4_INNER_ENVELOPE, M4_INNER_BS, lines(M4_INNER)))
M4_BODY_ONLY = (
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d)'
    '("message" "rfc822" NIL NIL "forwarded" "7bit" %d (%s) '
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d)'
    '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" %d %d) '
    '"alternative") %d) "mixed")'
    % (size(M4_P1_BODY), lines(M4_P1_BODY), size(M4_INNER),
       M4_INNER_ENVELOPE, size(M4_INNER_P1), lines(M4_INNER_P1),
       size(M4_INNER_P2), lines(M4_INNER_P2), lines(M4_INNER)))

# Almost nothing: no From, Date, Subject or Content-Type.
M5_BODY = crlf("just a body\nwith two lines\n")
M5 = part("To: someone@example.test\n", M5_BODY)
M5_ENVELOPE = ('(NIL NIL NIL NIL NIL ((NIL NIL "someone" "example.test")) '
               'NIL NIL NIL NIL)')
M5_BODYSTRUCTURE = ('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" '
                    '%d %d NIL NIL NIL NIL)' % (size(M5_BODY),
                                                lines(M5_BODY)))

MESSAGES = [M1, M2, M3, M4, M5]


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    """One server for the module: the messages are only read."""
    server = Poshtad(sdk, certs, str(tmp_path_factory.mktemp("bodystruct")))
    e = start_imap(server)
    for m in MESSAGES:
        e.deliver(ALICE, m.encode())
    yield e
    server.stop()
    assert not SANITIZER_REPORT.search(server.log()), server.log()


@pytest.fixture(scope="module")
def imap(env):
    r = env.login()
    r.ok("EXAMINE INBOX")
    yield r
    r.close()


def fetch1(imap, n, item):
    lines, tagged = imap.command("FETCH %d %s" % (n, item))
    assert tagged.endswith(b"OK Fetch completed"), (lines, tagged)
    assert len(lines) == 1, lines
    return lines[0].decode("utf-8")


@pytest.mark.parametrize("n,expected", [
    (1, M1_BODYSTRUCTURE), (2, M2_BODYSTRUCTURE), (3, M3_BODYSTRUCTURE),
    (4, M4_BODYSTRUCTURE), (5, M5_BODYSTRUCTURE)])
def test_bodystructure(imap, n, expected):
    assert fetch1(imap, n, "BODYSTRUCTURE") == (
        "* %d FETCH (BODYSTRUCTURE %s)" % (n, expected))


@pytest.mark.parametrize("n,expected", [
    (1, M1_BODY_ONLY), (2, M2_BODY_ONLY), (4, M4_BODY_ONLY)])
def test_body(imap, n, expected):
    assert fetch1(imap, n, "BODY") == "* %d FETCH (BODY %s)" % (n, expected)


@pytest.mark.parametrize("n,expected", [
    (1, M1_ENVELOPE), (2, M2_ENVELOPE), (5, M5_ENVELOPE)])
def test_envelope(imap, n, expected):
    assert fetch1(imap, n, "ENVELOPE") == (
        "* %d FETCH (ENVELOPE %s)" % (n, expected))


def test_full_macro_order(imap):
    """FULL is FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY, in that
    order."""
    line = fetch1(imap, 5, "FULL")
    m = re.match(r'\* 5 FETCH \(FLAGS \([^)]*\) INTERNALDATE "([^"]+)" '
                 r'RFC822.SIZE (\d+) ENVELOPE (.*) BODY (.*)\)$', line)
    assert m, line
    assert m.group(3) == M5_ENVELOPE
    assert m.group(4) == M5_BODYSTRUCTURE.replace(" NIL NIL NIL NIL)", ")")


def test_imaplib_parses_bodystructure(env):
    m = env.imaplib(ALICE)
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(BODYSTRUCTURE)")
    assert typ == "OK"
    got = [d.decode() if isinstance(d, bytes) else d for d in data]
    assert got == ["%d (BODYSTRUCTURE %s)" % (i + 1, e) for i, e in
                   enumerate([M1_BODYSTRUCTURE, M2_BODYSTRUCTURE,
                              M3_BODYSTRUCTURE, M4_BODYSTRUCTURE,
                              M5_BODYSTRUCTURE])]
    m.logout()
