"""TLS mistakes in the config are caught by `poshtad -t` (and at start,
before a socket is bound) with one line that says what is wrong and
where: the config file and line for a listener asking for TLS without a
certificate or for an unpaired certificate, the certificate or key file
for one that cannot be used."""

import os
import re
import subprocess

import pytest

from conftest import POSHTAD, TIMEOUT, listening, quote


def one_line_error(r):
    assert r.returncode == 1, "exit %d: %s%s" % (r.returncode, r.stdout,
                                                 r.stderr)
    out = r.stderr.strip()
    assert len(out.splitlines()) == 1, "not one line: %r" % out
    assert out.startswith("poshtad: "), out
    return out


def line_of(text, needle, after=0):
    """1-based number of the first line of text containing needle, at or
    after line after."""
    for i, line in enumerate(text.splitlines(), 1):
        if i >= after and needle in line:
            return i
    raise AssertionError("%r not in config" % needle)


def tls_block(*pairs):
    out = ["tls {"]
    for cert, key in pairs:
        if cert:
            out.append("\tcertificate %s;" % quote(cert))
        if key:
            out.append("\tkey %s;" % quote(key))
    out.append("}")
    return "\n".join(out)


@pytest.mark.parametrize("mode", ["implicit", "starttls", "required"])
def test_tls_mode_without_any_certificate(poshtad, mode):
    text = poshtad.config(listen={"plain": {}, "secure": {"tls": mode}})
    out = one_line_error(poshtad.check(text))
    line = line_of(text, "listen secure ")
    assert "%s:%d:" % (poshtad.conf_path, line) in out, out
    assert "certificate" in out and "secure" in out, out


def test_tls_none_needs_no_certificate(poshtad):
    text = poshtad.config(listen={"plain": {"tls": "none"}})
    r = poshtad.check(text)
    assert r.returncode == 0, r.stderr


def test_listener_certificate_satisfies_implicit(poshtad, certs):
    text = poshtad.config(listen={"secure": {
        "tls": "implicit", "certificate": quote(certs.cert),
        "key": quote(certs.key)}})
    r = poshtad.check(text)
    assert r.returncode == 0, r.stderr


def test_certificate_without_key(poshtad, certs):
    text = poshtad.config(top=tls_block((certs.cert, None)))
    out = one_line_error(poshtad.check(text))
    assert "%s:%d:" % (poshtad.conf_path, line_of(text, "tls {")) in out, out
    assert "key is missing" in out, out


def test_key_without_certificate(poshtad, certs):
    text = poshtad.config(top=tls_block((None, certs.key)))
    out = one_line_error(poshtad.check(text))
    assert "%s:%d:" % (poshtad.conf_path, line_of(text, "tls {")) in out, out
    assert "certificate is missing" in out, out


def test_listener_certificate_without_key(poshtad, certs):
    text = poshtad.config(listen={"secure": {
        "certificate": quote(certs.cert)}})
    out = one_line_error(poshtad.check(text))
    line = line_of(text, "listen secure ")
    assert "%s:%d:" % (poshtad.conf_path, line) in out, out
    assert "key is missing" in out, out


def test_second_pair_missing_its_key(poshtad, certs):
    text = poshtad.config(top=tls_block((certs.cert, certs.key),
                                        (certs.other_cert, None)))
    out = one_line_error(poshtad.check(text))
    assert "%s:" % poshtad.conf_path in out and "key is missing" in out, out


def test_key_not_matching_certificate(poshtad, certs):
    text = poshtad.config(top=tls_block((certs.cert, certs.other_key)))
    out = one_line_error(poshtad.check(text))
    assert certs.other_key in out and certs.cert in out, out
    assert "does not match" in out, out


def test_listener_key_not_matching_certificate(poshtad, certs):
    text = poshtad.config(listen={"secure": {
        "tls": "implicit", "certificate": quote(certs.other_cert),
        "key": quote(certs.key)}})
    out = one_line_error(poshtad.check(text))
    assert certs.key in out and certs.other_cert in out, out
    assert "does not match" in out, out


def test_missing_certificate_file(poshtad, certs, tmp_path):
    missing = str(tmp_path / "no-such.crt")
    text = poshtad.config(top=tls_block((missing, certs.key)))
    out = one_line_error(poshtad.check(text))
    assert missing in out, out
    assert "No such file or directory" in out, out


def test_missing_key_file(poshtad, certs, tmp_path):
    missing = str(tmp_path / "no-such.key")
    text = poshtad.config(top=tls_block((certs.cert, missing)))
    out = one_line_error(poshtad.check(text))
    assert missing in out, out
    assert "No such file or directory" in out, out


def test_certificate_file_that_is_not_a_certificate(poshtad, certs,
                                                    tmp_path):
    junk = tmp_path / "junk.crt"
    junk.write_text("not a certificate\n")
    text = poshtad.config(top=tls_block((str(junk), certs.key)))
    out = one_line_error(poshtad.check(text))
    assert str(junk) in out, out


def test_relative_certificate_path_is_beside_the_config(poshtad, certs):
    """A relative certificate path is read from the config's folder, and
    an error names the resolved file."""
    text = poshtad.config(top=tls_block(("nowhere.crt", certs.key)))
    out = one_line_error(poshtad.check(text))
    assert os.path.join(poshtad.root, "nowhere.crt") in out, out


def test_bad_tls_stops_start_before_binding(poshtad, certs):
    """Not only -t: starting with such a file fails at once, with the
    same line, and nothing listens."""
    text = poshtad.config(top=tls_block((certs.cert, certs.other_key)),
                          listen={"echo": {}})
    poshtad.write_config(text)
    r = subprocess.run([POSHTAD, "-f", "-c", poshtad.conf_path],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == 1
    assert re.search(r"does not match", r.stderr), r.stderr
    assert not listening(poshtad.ports["echo"])
    assert not os.path.exists(os.path.join(poshtad.root, "poshtad.pid"))
