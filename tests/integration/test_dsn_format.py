"""libpsdsn's DSNs read by an independent parser: tests/unit/dsn_build_cli
(built by make check) builds a DSN from a text spec and an original, and
Python's email package (policy.default) parses it. Checked: the RFC 6522
multipart/report and its report-type, the three parts and their types,
each RFC 3464 field, the original inside message/rfc822 (or its header in
text/rfc822-headers), RFC 6533's global types, and on the wire CRLF only
and lines of at most 998 octets (78 in the header). No server runs."""

import email
import email.policy
import email.utils
import os
import re
import subprocess

import pytest

from conftest import BUILDDIR, clean_env, run

CLI = os.path.join(BUILDDIR, "tests", "unit", "dsn_build_cli")
NOW = 1700000000
BASE = "=_cli.%x." % NOW  # the boundary before its hex digits

ORIGINAL = (b"Received: from client.example ([192.0.2.1])\r\n"
            b"From: Alice <alice@example.org>\r\n"
            b"To: bob@example.com\r\n"
            b"Subject: quarterly figures\r\n"
            b"Message-ID: <q1@example.org>\r\n"
            b"\r\n"
            b"Dear Bob,\r\n"
            b"the figures are attached.\r\n")

SPEC = {
    "now": str(NOW), "tz": "120", "sender": "alice@example.org",
    "arrival": str(NOW - 600), "client": "client.example [192.0.2.1]",
}

BOB = [("rcpt", "bob@example.com"), ("action", "failed"),
       ("status", "5.1.1"), ("remote", "mx.example.com"),
       ("diag", "550 5.1.1 <bob@example.com>: Recipient address rejected"),
       ("last", str(NOW - 60))]


@pytest.fixture(scope="module")
def cli():
    if not os.access(CLI, os.X_OK):
        run(["make", "-C", BUILDDIR, "tests/unit/dsn_build_cli"],
            "building dsn_build_cli", env=clean_env())
    return CLI


def build(cli, tmp_path, rcpts, original=ORIGINAL, **extra):
    """The DSN's octets for SPEC with extra, the recipients' (key, value)
    pairs, and original."""
    spec = dict(SPEC, **extra)
    lines = ["%s %s" % kv for kv in spec.items()] + \
        ["%s %s" % kv for kv in rcpts]
    (tmp_path / "spec").write_text("\n".join(lines) + "\n",
                                   encoding="utf-8")
    (tmp_path / "original").write_bytes(original)
    r = subprocess.run([cli, str(tmp_path / "spec"),
                        str(tmp_path / "original")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def check_wire(raw):
    """CRLF only, no line past 998 octets, the header's past 78; the
    parsed message with its parts, none with defects."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    header = raw[:raw.index(b"\r\n\r\n")].split(b"\r\n")
    assert max(len(line) for line in header) <= 78
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    return msg


def parts(msg, *types):
    assert msg.get_content_type() == "multipart/report"
    got = msg.get_payload()
    assert [p.get_content_type() for p in got] == list(types)
    return got


def status_blocks(part):
    """The per-message block and the per-recipient ones (RFC 3464 2.1)."""
    blocks = part.get_payload()
    assert len(blocks) >= 2
    return blocks[0], blocks[1:]


def test_failed_full(cli, tmp_path):
    carol = [("rcpt", "carol@example.com"),
             ("orcpt", "rfc822;c+2Barol@example.com"), ("action", "failed"),
             ("status", "5.2.2"), ("diag", "552 mailbox full")]
    raw = build(cli, tmp_path, BOB + carol, envid="QQ+2B42",
                reason="The remote servers refused the message.")
    msg = check_wire(raw)
    assert msg["From"].addresses[0].addr_spec == \
        "MAILER-DAEMON@mx.example.org"
    assert msg["From"].addresses[0].display_name == "Mail Delivery System"
    assert msg["To"].addresses[0].addr_spec == "alice@example.org"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"] == "<dsn.cli.%d@mx.example.org>" % NOW
    assert msg["MIME-Version"] == "1.0"
    assert email.utils.parsedate_to_datetime(msg["Date"]).timestamp() == NOW
    assert msg["Date"].endswith("+0200")
    assert msg.get_param("report-type") == "delivery-status"
    boundary = msg.get_boundary()
    assert boundary.startswith(BASE)

    text, status, returned = parts(msg, "text/plain",
                                   "message/delivery-status",
                                   "message/rfc822")
    body = text.get_content()
    assert text.get_content_charset() == "us-ascii"
    assert "<bob@example.com>: delivery failed (5.1.1)" in body
    assert "mx.example.com said: 550 5.1.1" in body
    assert "Reason: The remote servers refused the message." in body

    per_msg, rcpts = status_blocks(status)
    assert per_msg["Reporting-MTA"] == "dns; mx.example.org"
    assert per_msg["Original-Envelope-Id"] == "QQ+42"
    assert per_msg["Received-From-MTA"] == \
        "dns; client.example ([192.0.2.1])"
    assert email.utils.parsedate_to_datetime(
        per_msg["Arrival-Date"]).timestamp() == NOW - 600
    assert len(rcpts) == 2
    bob, carol = rcpts
    assert bob["Original-Recipient"] is None
    assert bob["Final-Recipient"] == "rfc822; bob@example.com"
    assert bob["Action"] == "failed"
    assert bob["Status"] == "5.1.1"
    assert bob["Remote-MTA"] == "dns; mx.example.com"
    assert bob["Diagnostic-Code"] == \
        "smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected"
    assert email.utils.parsedate_to_datetime(
        bob["Last-Attempt-Date"]).timestamp() == NOW - 60
    assert bob["Will-Retry-Until"] is None
    assert carol["Original-Recipient"] == "rfc822; c+arol@example.com"
    assert carol["Final-Recipient"] == "rfc822; carol@example.com"
    assert carol["Remote-MTA"] is None

    inner = returned.get_content()
    assert inner["Subject"] == "quarterly figures"
    assert inner["Message-ID"] == "<q1@example.org>"
    assert inner.get_content() == "Dear Bob,\r\nthe figures are attached.\r\n"
    # the original's octets, unchanged, between the part's header and the
    # next delimiter
    assert b"\r\n\r\n" + ORIGINAL + b"\r\n--" + boundary.encode() + \
        b"--\r\n" in raw


def test_ret_hdrs(cli, tmp_path):
    msg = check_wire(build(cli, tmp_path, BOB, ret="hdrs"))
    _, _, returned = parts(msg, "text/plain", "message/delivery-status",
                           "text/rfc822-headers")
    header = returned.get_payload(decode=True)
    assert header == ORIGINAL[:ORIGINAL.index(b"\r\n\r\n") + 2]
    assert b"Dear Bob" not in header


@pytest.mark.parametrize("action,status,subject", [
    ("delayed", "4.4.1", "Delayed Mail (still being retried)"),
    ("delivered", "2.0.0", "Successful Mail Delivery Report"),
    ("relayed", "2.0.0", "Successful Mail Delivery Report"),
    ("expanded", "2.1.5", "Successful Mail Delivery Report"),
])
def test_headers_only_unless_failed(cli, tmp_path, action, status, subject):
    rcpt = [("rcpt", "bob@example.com"), ("action", action),
            ("status", status), ("until", str(NOW + 86400))]
    msg = check_wire(build(cli, tmp_path, rcpt, ret="full"))
    assert msg["Subject"] == subject
    _, status_part, returned = parts(msg, "text/plain",
                                     "message/delivery-status",
                                     "text/rfc822-headers")
    _, (bob,) = status_blocks(status_part)
    assert bob["Action"] == action
    assert bob["Status"] == status
    until = bob["Will-Retry-Until"]
    if action == "delayed":
        assert email.utils.parsedate_to_datetime(until).timestamp() == \
            NOW + 86400
    else:
        assert until is None
    assert b"Dear Bob" not in returned.get_payload(decode=True)


def test_long_diagnostic(cli, tmp_path):
    diag = " ".join("word%d" % i for i in range(600))  # ~4 KB
    rcpt = BOB[:-2] + [("diag", diag[:1990])]
    raw = build(cli, tmp_path, rcpt)
    msg = check_wire(raw)
    _, status, _ = parts(msg, "text/plain", "message/delivery-status",
                         "message/rfc822")
    _, (bob,) = status_blocks(status)
    assert bob["Diagnostic-Code"] == "smtp; " + diag[:1990].rstrip()
    assert b"\r\nDiagnostic-Code: smtp; word0 word1" in raw


def test_global(cli, tmp_path):
    rcpt = [("rcpt", "j\u00fcrgen@b\u00fccher.example"),
            ("orcpt", "utf-8;j\\x{FC}rgen@b\\x{FC}cher.example"),
            ("action", "failed"), ("status", "5.1.1"),
            ("diag", "550 5.1.1 kein Benutzer j\u00fcrgen")]
    raw = build(cli, tmp_path, rcpt)
    msg = check_wire(raw)
    assert msg.get_param("report-type") == "global-delivery-status"
    text, status, returned = parts(msg, "text/plain",
                                   "message/global-delivery-status",
                                   "message/global")
    assert text.get_content_charset() == "utf-8"
    assert "<j\u00fcrgen@b\u00fccher.example>: delivery failed" in \
        text.get_content()
    # the email package takes a message/global* part for one message:
    # read the fields from the wire
    fields = raw.decode("utf-8")
    assert "\r\nFinal-Recipient: utf-8; j\u00fcrgen@b\u00fccher.example" \
        "\r\n" in fields
    assert "\r\nOriginal-Recipient: utf-8; " \
        "j\\x{FC}rgen@b\\x{FC}cher.example\r\n" in fields
    assert "Diagnostic-Code: smtp; 550 5.1.1 kein Benutzer j\u00fcrgen" in \
        fields
    assert returned.get_payload(0)["Subject"] == "quarterly figures"
    assert b"Content-Type: message/global\r\n" \
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + ORIGINAL in raw


def test_boundary_in_original(cli, tmp_path):
    """Lines of the original start with every boundary of the first round:
    the DSN's boundary goes a round further and the parts stay three."""
    lines = b"".join(b"--%s%02x\r\n" % (BASE.encode(), c)
                     for c in range(256))
    original = ORIGINAL + lines
    raw = build(cli, tmp_path, BOB, original=original)
    msg = check_wire(raw)
    _, _, returned = parts(msg, "text/plain", "message/delivery-status",
                           "message/rfc822")
    boundary = msg.get_boundary()
    assert re.fullmatch(re.escape(BASE) + "[0-9a-f]{4}", boundary)
    assert returned.get_content().get_content().endswith(
        lines.decode())


def test_huge_original_cut(cli, tmp_path):
    body = b"".join(b"line %07d of a long message\r\n" % i
                    for i in range(40000))  # about 1.3 MB
    raw = build(cli, tmp_path, BOB, original=ORIGINAL + body, max="100000")
    assert len(raw) < 100000 + 8192
    msg = check_wire(raw)
    text, _, returned = parts(msg, "text/plain", "message/delivery-status",
                              "message/rfc822")
    assert "Only the first 100000 octets of your message are attached" in \
        text.get_content()
    inner = returned.get_content()
    assert inner["Subject"] == "quarterly figures"
    assert inner.get_content().startswith("Dear Bob,\r\n")
    assert inner.get_content().endswith("\r\n")
