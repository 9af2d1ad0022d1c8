"""SIGHUP re-reads certificates: new connections get the new one, while a
connection opened before the reload keeps its session (and its old
certificate) until it ends."""

import os
import shutil
import signal
import ssl

from conftest import Certs, quote, wait_for

LOCALHOST_SAN = "DNS:localhost,IP:127.0.0.1"


def tls_top(cert, key):
    return "tls {\n\tcertificate %s;\n\tkey %s;\n}" % (quote(cert),
                                                       quote(key))


def fresh_pair(tmp_path, name):
    """A new self-signed localhost certificate, unlike any other."""
    root = tmp_path / name
    root.mkdir()
    return Certs._make(str(root), "localhost", LOCALHOST_SAN)


def trusting(*certs):
    """A client context that trusts exactly these certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for cert in certs:
        ctx.load_verify_locations(cert)
    return ctx


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def peer_der(client):
    return client.sock.getpeercert(binary_form=True)


def reload_and_wait(poshtad, text):
    """Write text, SIGHUP, and return once the old worker has stopped
    accepting, so that every later connection meets the new config."""
    before = poshtad.log().count("retiring: no new connections")
    poshtad.write_config(text)
    poshtad.signal(signal.SIGHUP)
    poshtad.wait_log(r"reloaded %s" % poshtad.conf_path)
    wait_for("the old worker to stop accepting",
             lambda: poshtad.log().count("retiring: no new connections")
             > before)


def config(poshtad, cert, key):
    return poshtad.config(top=tls_top(cert, key),
                          listen={"echos": {"tls": "implicit"}})


def test_reload_switches_certificate_for_new_connections(poshtad, certs,
                                                         tmp_path):
    new_cert, new_key = fresh_pair(tmp_path, "new")
    ctx = trusting(certs.cert, new_cert)
    poshtad.start(config(poshtad, certs.cert, certs.key))

    old = poshtad.connect("echos", ctx)
    old.expect("+OK Poshta echo ready")
    assert peer_der(old) == der(certs.cert)
    old.command("before", "before")

    reload_and_wait(poshtad, config(poshtad, new_cert, new_key))

    with poshtad.connect("echos", ctx) as new:
        new.expect("+OK Poshta echo ready")
        assert peer_der(new) == der(new_cert), \
            "a connection after the reload got the old certificate"
        new.command("new one", "new one")
        new.command("QUIT", "+OK bye")

    # The connection from before lives on, with its session and
    # certificate, served by the retiring worker.
    assert peer_der(old) == der(certs.cert)
    old.command("after", "after")
    old.command("TLS?", "+OK tls")
    old.command("QUIT", "+OK bye")
    old.expect_eof()
    old.close()

    # A client that trusts only the old certificate is now refused.
    try:
        poshtad.connect("echos", trusting(certs.cert)).close()
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise AssertionError("old certificate still served after reload")


def test_reload_rereads_rewritten_certificate_files(poshtad, certs,
                                                    tmp_path):
    """Certificate renewal: same paths, new contents, SIGHUP."""
    live = tmp_path / "live"
    live.mkdir()
    cert, key = str(live / "server.crt"), str(live / "server.key")
    shutil.copyfile(certs.cert, cert)
    shutil.copyfile(certs.key, key)
    new_cert, new_key = fresh_pair(tmp_path, "renewed")
    ctx = trusting(certs.cert, new_cert)
    text = config(poshtad, cert, key)
    poshtad.start(text)

    with poshtad.connect("echos", ctx) as c:
        c.expect("+OK Poshta echo ready")
        assert peer_der(c) == der(certs.cert)

    # Replace both files atomically, as a renewal tool would.
    for src, dst in ((new_cert, cert), (new_key, key)):
        shutil.copyfile(src, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
    reload_and_wait(poshtad, text)

    with poshtad.connect("echos", ctx) as c:
        c.expect("+OK Poshta echo ready")
        assert peer_der(c) == der(new_cert)
        c.command("renewed", "renewed")


def test_reload_with_bad_key_keeps_old_certificate(poshtad, certs,
                                                   tmp_path):
    """A new certificate whose key does not match is refused at reload;
    the running certificate stays in service."""
    new_cert, _ = fresh_pair(tmp_path, "new")
    ctx = trusting(certs.cert, new_cert)
    poshtad.start(config(poshtad, certs.cert, certs.key))
    poshtad.write_config(config(poshtad, new_cert, certs.key))
    poshtad.signal(signal.SIGHUP)
    poshtad.wait_log(r"reload failed, keeping the running config: .*"
                     r"does not match")
    assert poshtad.proc.poll() is None
    with poshtad.connect("echos", ctx) as c:
        c.expect("+OK Poshta echo ready")
        assert peer_der(c) == der(certs.cert)
