"""DKIM signatures checked by an independent verifier: keys made by
`poshtactl dkim keygen` (RSA and Ed25519), messages signed by libpsdkim
through tests/unit/dkim_sign_cli (built by `make check`), and each
signature verified by dkimpy (Debian's python3-dkim) with a DNS lookup
answered from the record poshtactl printed. Then the same messages
tampered with, which must fail: a changed body, an added From or
Reply-To (over-signed), a header changed under simple canonicalisation.
"""

import os
import random
import re
import stat
import subprocess
import time

import dkim  # Debian's python3-dkim, which autogen.sh installs
import pytest

from conftest import BUILDDIR, TIMEOUT, quote

POSHTACTL = os.path.join(BUILDDIR, "core", "poshtactl")
SIGN_CLI = os.path.join(BUILDDIR, "tests", "unit", "dkim_sign_cli")
STAGED = os.path.join(BUILDDIR, "modules", ".staged")
DOMAIN = "example.test"
CANONS = ("relaxed/relaxed", "simple/simple", "relaxed/simple",
          "simple/relaxed")


def poshtactl(conf, *args, code=0):
    r = subprocess.run([POSHTACTL, "-c", conf] + list(args),
                       capture_output=True, text=True, timeout=TIMEOUT * 6)
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    return r


class Keys:
    """Keys made by poshtactl, and the DNS records it printed."""

    def __init__(self, root):
        self.root = root
        self.conf = os.path.join(root, "poshta.conf")
        self.state = os.path.join(root, "state")
        with open(self.conf, "w") as f:
            f.write("state_dir %s;\nmodule_dir %s;\n" % (
                quote(self.state), quote(STAGED)))
        self.path = {}
        self.txt = {}

    def keygen(self, selector, *args):
        out = poshtactl(self.conf, "dkim", "keygen", DOMAIN, selector,
                        *args).stdout
        comment, record = out.splitlines()
        self.path[selector] = comment[len("; private key: "):]
        m = re.fullmatch(r'(\S+) IN TXT \(((?: "[^"]*")+) \)', record)
        assert m, record
        strings = re.findall(r'"([^"]*)"', m.group(2))
        assert all(0 < len(s) <= 255 for s in strings)
        self.txt[m.group(1)] = "".join(strings).encode()
        return "".join(strings)

    def dns(self, name, timeout=5):
        return self.txt.get(name.decode())


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    k = Keys(str(tmp_path_factory.mktemp("dkim")))
    rsa = k.keygen("rsa")
    ed = k.keygen("ed", "--type", "ed25519",
                  "--out", os.path.join(k.root, "ed.key"))
    assert rsa.startswith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC")
    assert re.fullmatch(r"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=", ed)
    return k


def sign(keys, selector, msg, canon="relaxed/relaxed", piece=65536):
    if not os.path.exists(SIGN_CLI):
        pytest.fail("%s is not built: run make check (or make "
                    "tests/unit/dkim_sign_cli)" % SIGN_CLI)
    r = subprocess.run([SIGN_CLI, "-c", canon, "-x", "3600", "-n",
                        str(piece), keys.path[selector], DOMAIN, selector,
                        str(int(time.time()))],
                       input=msg, capture_output=True, timeout=TIMEOUT * 3)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(msg)
    return r.stdout


def verify(keys, signed):
    return dkim.verify(signed, dnsfunc=keys.dns)


HEADER = (b"Received: from a.example by b.example; "
          b"Tue, 14 Nov 2023 22:13:20 +0000\r\n"
          b"From: Joe SixPack <joe@example.test>\r\n"
          b"To: Suzie Q <suzie@shopping.example.net>\r\n"
          b"Subject: Is dinner ready?\r\n"
          b"Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
          b"Message-ID: <20030712040037.46341.5F8J@example.test>\r\n")


def long_body():
    """About 300 KB: many of the signer's reads, and still quick for
    dkimpy's relaxed canonicalisation (3 MB took it 8 s a case)."""
    rnd = random.Random(7)
    words = [b"lorem", b"ipsum\t", b"  dolor", b"sit ", b"amet,", b"\xc3\xa9"]
    lines = [b" ".join(rnd.choice(words) for _ in range(rnd.randrange(12)))
             for _ in range(6000)]
    return b"\r\n".join(lines) + b"\r\n"


MESSAGES = {
    "plain": HEADER + b"\r\nHi.\r\n\r\nWe lost the game.\r\n\r\nJoe.\r\n",
    "folded": (b"From: \"A very long display name that goes on\"\r\n"
               b"\t<joe@example.test>\r\n"
               b"To: one@example.net,\r\n   two@example.net,\r\n"
               b"\tthree@example.net\r\n"
               b"Subject:   Folded\t subject \r\n  over  two lines  \r\n"
               b"Cc: x@example.net\r\n"
               b"Reply-To: list@example.net\r\n"
               b"List-Id: <list.example.net>\r\n"
               b"X-Spaces:   a   b   \r\n"
               b"\r\nbody\r\n"),
    "trailing": HEADER + b"\r\nline  with  spaces  \r\n \t \r\n"
                         b"\r\n\r\n  \r\n\r\n",
    "8bit": HEADER + b"MIME-Version: 1.0\r\n"
                     b"Content-Type: text/plain; charset=utf-8\r\n"
                     b"Content-Transfer-Encoding: 8bit\r\n"
                     b"\r\n\xd0\x9f\xd0\xbe\xd1\x88\xd1\x82\xd0\xb0 "
                     b"\xe2\x9c\x89\r\nraw \x80\xff\xfe\r\n",
    "empty": HEADER + b"\r\n",
    "header-only": HEADER,
    "long": HEADER + b"\r\n" + long_body(),
}


def test_keygen_files(keys):
    rsa = keys.path["rsa"]
    assert rsa == os.path.join(keys.state, "dkim", DOMAIN + ".rsa.key")
    assert stat.S_IMODE(os.stat(rsa).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(rsa)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(keys.path["ed"]).st_mode) == 0o600
    with open(rsa) as f:
        assert f.read().startswith("-----BEGIN PRIVATE KEY-----\n")
    # An existing key is never replaced.
    before = os.stat(rsa)
    r = poshtactl(keys.conf, "dkim", "keygen", DOMAIN, "rsa", code=1)
    assert r.stderr == "poshtactl: %s exists: not replacing a key\n" % rsa
    assert os.stat(rsa) == before


@pytest.mark.parametrize("name", sorted(MESSAGES))
@pytest.mark.parametrize("selector", ["rsa", "ed"])
@pytest.mark.parametrize("canon", CANONS)
def test_dkimpy_verifies(keys, name, selector, canon):
    msg = MESSAGES[name]
    # Fed whole, in odd pieces and one octet at a time (not the long one).
    for piece in (65536, 7) + ((1,) if len(msg) < 4096 else ()):
        signed = sign(keys, selector, msg, canon, piece)
        assert verify(keys, signed), (name, piece, signed[:600])
        algo = b"ed25519-sha256" if selector == "ed" else b"rsa-sha256"
        assert b"a=" + algo + b";" in signed
        # Unsigned fields may be added on the way.
        assert verify(keys, b"Received: by c.example\r\n" + signed)


@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_tampering_fails(keys, selector):
    msg = MESSAGES["plain"]
    signed = sign(keys, selector, msg)
    assert verify(keys, signed)
    assert not verify(keys, signed.replace(b"lost the game",
                                           b"won the game!"))
    # From, Subject and Reply-To are over-signed: none can be added,
    # at the top or at the end of the header.
    for added in (b"From: Mallory <m@evil.example>\r\n",
                  b"Subject: Urgent\r\n",
                  b"Reply-To: m@evil.example\r\n"):
        i = signed.index(b"\r\n\r\n") + 2
        assert not verify(keys, signed[:i] + added + signed[i:]), added
    # Relaxed forgives a header's case and spaces; simple does not.
    relaxed = signed.replace(b"Subject: Is dinner ready?",
                             b"SUBJECT:  Is   dinner ready?")
    assert verify(keys, relaxed)
    simple = sign(keys, selector, msg, "simple/simple")
    assert not verify(keys, simple.replace(b"Subject: Is dinner ready?",
                                           b"SUBJECT:  Is   dinner ready?"))


def test_missing_from_refused(keys):
    r = subprocess.run([SIGN_CLI, keys.path["ed"], DOMAIN, "ed", "0"],
                       input=b"To: a@example.net\r\n\r\nbody\r\n",
                       capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 1
    assert b"no From field" in r.stderr
