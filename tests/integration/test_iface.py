"""Interfaces and registration rules, checked from inside a worker by
tests/modules/iface_probe.c."""


def test_iface_rules(poshtad):
    poshtad.start(load=("echo", "iface_probe"))
    m = poshtad.wait_log(r"iface_probe: get=(-?\d+) size_is_v1=(\d) "
                         r"answer=(-?\d+) zero_filled=(\d) missing=(-?\d+) "
                         r"late_register=(-?\d+) api_has_slot=(\d)")
    got, size, answer, zero, missing, late, has = map(int, m.groups())
    assert got == 0          # published in init, found in the worker
    assert size == 1         # the publisher's size, not the reader's
    assert answer == 42
    assert zero == 1         # the reader's newer tail reads NULL
    assert missing == -4     # PS_ENOENT
    assert late == -6        # PS_ESTATE: registration only in init
    assert has == 1          # PS_API_HAS on a 1.0 entry
