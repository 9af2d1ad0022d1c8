"""DKIM signing of outbound mail (RFC 6376, RFC 8463), end to end on
loopback: keys made by `poshtactl dkim keygen` (RSA, Ed25519), a sender
per key with `dkim_sign local.test SELECTOR KEY;`, a message submitted
by alice@local.test and delivered over a static route to a receiving
poshtad; the message as the receiver stored it verifies with dkimpy
(Debian's python3-dkim), the DNS lookup answered from the TXT record
poshtactl printed, and no longer does once its body is changed."""

import os
import re
import subprocess

import dkim  # Debian's python3-dkim, which autogen.sh installs
import pytest

from conftest import BUILDDIR, TIMEOUT, quote
from outbound_helpers import LOCAL, msg, World
from smtp_helpers import header_block

POSHTACTL = os.path.join(BUILDDIR, "core", "poshtactl")
RX = "127.0.0.2"
ALGOS = {"rsa": "rsa-sha256", "ed": "ed25519-sha256"}


def keygen(root, selector, *args):
    """poshtactl dkim keygen LOCAL selector args: (key path, TXT name,
    TXT value)."""
    os.makedirs(root)
    conf = os.path.join(root, "keygen.conf")
    with open(conf, "w") as f:
        f.write("state_dir %s;\n" % quote(os.path.join(root, "state")))
    r = subprocess.run([POSHTACTL, "-c", conf, "dkim", "keygen", LOCAL,
                        selector] + list(args), capture_output=True,
                       text=True, timeout=TIMEOUT * 6)
    assert r.returncode == 0, (r.stdout, r.stderr)
    comment, record = r.stdout.splitlines()
    m = re.fullmatch(r'(\S+) IN TXT \(((?: "[^"]*")+) \)', record)
    assert m, record
    return (comment[len("; private key: "):], m.group(1),
            "".join(re.findall(r'"([^"]*)"', m.group(2))).encode())


@pytest.fixture(scope="module")
def world(sdk, certs, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("outbound-dkim"))
    w = World(sdk, certs, root)
    try:
        w.txt = {}
        w.out = {}
        w.rx = w.receiver(RX, ["remote.test"])
        for sel, args in (("rsa", ()), ("ed", ("--type", "ed25519"))):
            path, name, value = keygen(os.path.join(root, "keys-" + sel),
                                       sel, *args)
            assert name == "%s._domainkey.%s." % (sel, LOCAL), name
            w.txt[name] = value
            w.out[sel] = w.sender(dns=False, smtp=[
                "route remote.test %s" % RX,
                "dkim_sign %s %s %s" % (LOCAL, sel, quote(path))])
        yield w
    finally:
        w.close()


def crlf(stored):
    """The message as stored (LF lines) with CRLF, as it went over SMTP."""
    return stored.replace(b"\n", b"\r\n")


@pytest.mark.parametrize("sel", sorted(ALGOS))
def test_signed_and_verified_by_dkimpy(world, sel):
    to = "bob@remote.test"
    subject = "signed with %s" % sel
    body = ("Hello,\r\n\r\nthis line  has   spaces \t\r\n"
            "and a last one.\r\n\r\n\r\n")
    world.out[sel].submit([to], msg(subject, to, body=body))
    got = crlf(world.rx.wait(to, subject))
    sigs = [h for h in header_block(got.replace(b"\r\n", b"\n"))
            if h.lower().startswith("dkim-signature:")]
    assert len(sigs) == 1, sigs
    tags = dict(t.strip().split("=", 1) for t in
                sigs[0].split(":", 1)[1].split(";") if "=" in t)
    assert tags["d"] == LOCAL and tags["s"] == sel, tags
    assert tags["a"] == ALGOS[sel], tags
    assert tags.get("c", "simple/simple") == "relaxed/relaxed", tags

    def dns(name, timeout=5):
        return world.txt.get(name.decode())
    assert dkim.verify(got, dnsfunc=dns), got[:2000]
    # The verifier is not vacuous: a changed body fails.
    assert not dkim.verify(got.replace(b"and a last one.",
                                       b"and a new one!!"), dnsfunc=dns)
