"""The dnsmasq fixture of dns_helpers.py answers what it was told to, and
at once: MX (null MX too), A, AAAA, CNAME, NODATA, NXDOMAIN, REFUSED."""

from dns_helpers import NOERROR, NXDOMAIN, REFUSED, dnsmasq  # noqa: F401


def test_dnsmasq_answers_declared_records(dnsmasq):
    dnsmasq.mx("example.test", "mx1.example.test", 10)
    dnsmasq.mx("example.test", "mx2.example.test", 20)
    dnsmasq.a("mx1.example.test", "127.0.0.1")
    dnsmasq.aaaa("mx1.example.test", "::1")
    dnsmasq.null_mx("null.test")
    dnsmasq.a("nomx.test", "127.0.0.2")
    dnsmasq.cname("alias.test", "mx1.example.test")
    dnsmasq.refused("refused.test")
    dnsmasq.start()

    mx = dnsmasq.query("example.test", "MX")
    assert mx.rcode == NOERROR
    assert sorted(mx.of("MX")) == [(10, "mx1.example.test."),
                                   (20, "mx2.example.test.")]
    assert dnsmasq.query("mx1.example.test", "A").of("A") == ["127.0.0.1"]
    assert dnsmasq.query("mx1.example.test", "AAAA").of("AAAA") == ["::1"]
    assert dnsmasq.query("null.test", "MX").of("MX") == [(0, ".")]
    nodata = dnsmasq.query("nomx.test", "MX")
    assert nodata.rcode == NOERROR and nodata.records == []
    assert dnsmasq.query("unknown.test", "MX").rcode == NXDOMAIN
    assert dnsmasq.query("alias.test", "A").of("A") == ["127.0.0.1"]
    assert dnsmasq.query("refused.test", "MX").rcode == REFUSED
    # Never forwarded: a name outside the local zones is refused at once.
    assert dnsmasq.query("example.com", "MX").rcode == REFUSED


def test_dnsmasq_restart_changes_records(dnsmasq):
    dnsmasq.a("host.test", "127.0.0.1").start()
    port = dnsmasq.port
    dnsmasq.clear()
    dnsmasq.a("host.test", "127.0.0.9").restart()
    assert dnsmasq.port == port
    assert dnsmasq.query("host.test", "A").of("A") == ["127.0.0.9"]
