"""smtp.so's asynchronous resolver (c-ares on the worker's loop), through
the "dns" interface and tests/modules/dns_probe.c, against the dnsmasq of
dns_helpers.py named by `resolver 127.0.0.1:PORT;`: MX by preference
(RFC 5321 5.1) with equal preferences in both orders, the implicit MX,
null MX (RFC 7505), NXDOMAIN, MX hosts without addresses skipped, IPv6,
CNAME, and failures that are temporary and bounded in time while the
loop goes on answering."""

import time

from conftest import TIMEOUT, free_port
from dns_helpers import dnsmasq  # noqa: F401

SMTP_BLOCK = """smtp {
\tresolver 127.0.0.1:%d;
\tresolver_timeout %s;
\tresolver_tries %d;
}"""


def start(poshtad, port, timeout="500ms", tries=1):
    poshtad.start(load=("smtp", "dns_probe"),
                  listen={"dns": {"protocol": "dnsprobe"}},
                  body=SMTP_BLOCK % (port, timeout, tries))
    return probe(poshtad)


def probe(poshtad):
    c = poshtad.connect("dns")
    c.expect("DNSPROBE ready")
    return c


def result(c, tag):
    """(status, why, [(name, pref, [addresses])]) of the next answer,
    which must be tag's."""
    head = c.readline().split(" ", 3)
    assert head[0] == tag, "expected an answer for %r: %r" % (tag, head)
    assert head[1] != "ERR", "refused: %r" % (head,)
    hosts = []
    for _ in range(int(head[2])):
        words = c.readline().split()
        assert words[0] == tag, words
        hosts.append((words[1], int(words[2]), words[3:]))
    return head[1], head[3], hosts


def lookup(c, verb, name, tag="t"):
    c.sendline("%s %s %s" % (verb, tag, name))
    return result(c, tag)


def example_zone(d):
    d.mx("example.test", "mx2.example.test", 20)
    d.mx("example.test", "mx1.example.test", 10)
    d.mx("example.test", "mx3.example.test", 30)
    d.a("mx1.example.test", "127.0.0.1").aaaa("mx1.example.test", "::1")
    d.a("mx2.example.test", "127.0.0.2")
    d.aaaa("mx3.example.test", "::3")


def test_mx_by_preference(poshtad, dnsmasq):
    example_zone(dnsmasq)
    c = start(poshtad, dnsmasq.start().port)
    assert lookup(c, "MX", "example.test") == ("OK", "ok", [
        ("mx1.example.test", 10, ["::1", "127.0.0.1"]),
        ("mx2.example.test", 20, ["127.0.0.2"]),
        ("mx3.example.test", 30, ["::3"]),
    ])
    # A trailing dot names the same domain.
    assert lookup(c, "MX", "example.test.")[2][0][0] == "mx1.example.test"


def test_equal_preferences_both_orders(poshtad, dnsmasq):
    dnsmasq.mx("spread.test", "a.spread.test", 10)
    dnsmasq.mx("spread.test", "b.spread.test", 10)
    dnsmasq.mx("spread.test", "best.spread.test", 5)
    dnsmasq.mx("spread.test", "last.spread.test", 20)
    for host in ("a", "b", "best", "last"):
        dnsmasq.a("%s.spread.test" % host, "127.0.0.1")
    c = start(poshtad, dnsmasq.start().port)
    orders = set()
    for i in range(60):
        st, _, hosts = lookup(c, "MX", "spread.test", tag="n%d" % i)
        assert st == "OK"
        names = [h[0].split(".")[0] for h in hosts]
        assert names[0] == "best" and names[3] == "last", names
        assert [h[1] for h in hosts] == [5, 10, 10, 20]
        orders.add(tuple(names[1:3]))
        if len(orders) == 2:
            break
    assert orders == {("a", "b"), ("b", "a")}


def test_no_mx_falls_back_to_the_domain(poshtad, dnsmasq):
    dnsmasq.a("plain.test", "127.0.0.5").aaaa("plain.test", "::5")
    dnsmasq.txt("nothing.test", "v=spf1 -all")
    c = start(poshtad, dnsmasq.start().port)
    assert lookup(c, "MX", "plain.test") == (
        "OK", "ok", [("plain.test", 0, ["::5", "127.0.0.5"])])
    # Neither MX nor A/AAAA: permanent.
    assert lookup(c, "MX", "nothing.test") == (
        "NOTFOUND", "no MX and no A/AAAA records", [])


def test_null_mx(poshtad, dnsmasq):
    dnsmasq.null_mx("nomail.test").a("nomail.test", "127.0.0.1")
    c = start(poshtad, dnsmasq.start().port)
    assert lookup(c, "MX", "nomail.test") == ("NULLMX", "null MX", [])


def test_nxdomain_is_permanent(poshtad, dnsmasq):
    c = start(poshtad, dnsmasq.start().port)
    assert lookup(c, "MX", "nowhere.test") == ("NOTFOUND", "NXDOMAIN", [])
    assert lookup(c, "HOST", "nowhere.test") == (
        "NOTFOUND", "no A/AAAA records", [])


def test_mx_host_without_address_skipped(poshtad, dnsmasq):
    dnsmasq.mx("half.test", "gone.half.test", 5)
    dnsmasq.mx("half.test", "up.half.test", 10)
    dnsmasq.a("up.half.test", "127.0.0.9")
    dnsmasq.mx("broken.test", "gone.broken.test", 10)
    c = start(poshtad, dnsmasq.start().port)
    assert lookup(c, "MX", "half.test") == (
        "OK", "ok", [("up.half.test", 10, ["127.0.0.9"])])
    # Every MX host skipped: temporary, the DNS may be mended.
    assert lookup(c, "MX", "broken.test") == (
        "TEMP", "no MX host has an address", [])


def test_hosts_ipv6_and_cname(poshtad, dnsmasq):
    dnsmasq.aaaa("six.test", "::1").aaaa("six.test", "fd00::25")
    dnsmasq.a("four.test", "127.0.0.4")
    dnsmasq.cname("alias.test", "four.test")
    c = start(poshtad, dnsmasq.start().port)
    st, _, hosts = lookup(c, "HOST", "six.test")
    assert st == "OK" and len(hosts) == 1
    assert hosts[0][:2] == ("six.test", 0)
    assert sorted(hosts[0][2]) == ["::1", "fd00::25"]
    assert lookup(c, "HOST", "alias.test") == (
        "OK", "ok", [("alias.test", 0, ["127.0.0.4"])])
    # A domain that is a CNAME to a host without MX: the implicit MX.
    assert lookup(c, "MX", "alias.test") == (
        "OK", "ok", [("alias.test", 0, ["127.0.0.4"])])


def test_addresses_and_bad_names_refused(poshtad, dnsmasq):
    c = start(poshtad, dnsmasq.start().port)
    for verb, name in (("HOST", "127.0.0.1"), ("MX", "[127.0.0.1]"),
                       ("MX", "::1"), ("MX", "a..test"),
                       ("MX", "x" * 64 + ".test")):
        c.sendline("%s t %s" % (verb, name))
        c.expect("t ERR -3")  # PS_EINVAL, and no callback after it
    assert lookup(c, "MX", "nowhere.test")[0] == "NOTFOUND"


def test_refused_and_unanswered_are_temporary(poshtad, dnsmasq):
    dnsmasq.refused("refused.test").unanswered("slow.test")
    dnsmasq.a("fast.test", "127.0.0.7")
    c = start(poshtad, dnsmasq.start().port)
    # c-ares takes REFUSED for a broken server and tries the next: when
    # none is left, the server was refused or unreachable.
    assert lookup(c, "MX", "refused.test") == (
        "TEMP", "resolver refused or unreachable", [])

    # The loop goes on while a lookup waits: a later lookup on the same
    # connection and one on another connection are answered first.
    began = time.monotonic()
    c.sendline("MX slow slow.test")
    other = probe(poshtad)
    assert lookup(other, "HOST", "fast.test", tag="o")[0] == "OK"
    assert lookup(c, "HOST", "fast.test", tag="fast")[0] == "OK"
    assert time.monotonic() - began < 0.5
    assert result(c, "slow") == ("TEMP", "timeout", [])
    # resolver_timeout 500ms, one try: bounded well under TIMEOUT.
    assert time.monotonic() - began < 3


def test_dead_resolver_is_temporary_and_bounded(poshtad):
    c = start(poshtad, free_port(), timeout="300ms", tries=2)
    began = time.monotonic()
    st, why, hosts = lookup(c, "MX", "example.test")
    assert (st, hosts) == ("TEMP", [])
    assert why in ("timeout", "resolver refused or unreachable"), why
    assert time.monotonic() - began < TIMEOUT / 2


def test_client_gone_before_the_answer(poshtad, dnsmasq):
    """The probe holds its connection until the callback; a client that
    leaves first changes nothing for the next one."""
    dnsmasq.unanswered("slow.test").a("fast.test", "127.0.0.7")
    c = start(poshtad, dnsmasq.start().port, timeout="200ms")
    c.sendline("MX s slow.test")
    c.sendline("HOST f fast.test")
    assert result(c, "f")[0] == "OK"
    c.close()
    time.sleep(0.5)
    c = probe(poshtad)
    assert lookup(c, "MX", "slow.test") == ("TEMP", "timeout", [])
    assert len(poshtad.workers()) == 1


def test_shutdown_with_lookups_in_flight(poshtad, dnsmasq):
    """The worker exits with lookups waiting: their callbacks still come
    (TEMP, from smtp's worker_exit), nothing leaks or crashes (the
    sanitizer build checks the log), and the master exits cleanly."""
    dnsmasq.unanswered("slow.test")
    c = start(poshtad, dnsmasq.start().port, timeout="5s", tries=2)
    for i in range(3):
        c.sendline("MX s%d slow%d.slow.test" % (i, i))
    c.sendline("HOST h slow.test")
    time.sleep(0.2)
    assert poshtad.stop() == 0
    assert "shutdown timeout" not in poshtad.log()


def test_resolver_by_name_is_no_server(poshtad):
    """c-ares takes numeric servers only: `resolver localhost:53;` is
    logged and ignored, and with no server left lookups fail temporarily
    (at once, in a later loop turn) instead of using /etc/resolv.conf."""
    poshtad.start(load=("smtp", "dns_probe"),
                  listen={"dns": {"protocol": "dnsprobe"}},
                  body="smtp {\n\tresolver localhost:53;\n}")
    c = probe(poshtad)
    poshtad.wait_log(r"resolver localhost:53: not a numeric address")
    began = time.monotonic()
    assert lookup(c, "MX", "example.test") == (
        "TEMP", "no usable resolver", [])
    assert lookup(c, "HOST", "mx.example.test") == (
        "TEMP", "no usable resolver", [])
    assert time.monotonic() - began < 1
