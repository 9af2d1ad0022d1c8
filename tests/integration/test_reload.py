"""SIGHUP: new workers get the new config, old ones finish their live
connections first; a broken config leaves the running one in place."""

import signal

from conftest import quote, wait_for


def greeting_is(poshtad, want):
    """Whether a new connection gets want; one accepted by a retiring
    worker in the middle of the reload may be closed instead."""
    with poshtad.connect() as c:
        try:
            return c.readline() == want
        except (EOFError, ConnectionResetError):
            return False


def test_reload_changes_greeting(poshtad):
    body = "echo {\n\tgreeting %s;\n}"
    poshtad.start(workers=2, body=body % quote("one"))
    old = set(poshtad.workers())
    assert len(old) == 2
    a = poshtad.connect()
    a.expect("+OK one")
    a.command("before", "before")

    poshtad.write_config(poshtad.config(workers=2, body=body % quote("two")))
    poshtad.signal(signal.SIGHUP)
    wait_for("the new greeting", lambda: greeting_is(poshtad, "+OK two"))
    new = set(wait_for("two new workers",
                       lambda: len(set(poshtad.workers()) - old) == 2
                       and poshtad.workers()))

    # The old worker that holds `a` is still there and still serves it.
    assert old & new, "old workers gone while a connection was open"
    a.command("after", "after")
    a.command("QUIT", "+OK bye")
    a.expect_eof()
    a.close()
    wait_for("old workers to exit",
             lambda: not old & set(poshtad.workers()))
    assert greeting_is(poshtad, "+OK two")
    assert poshtad.stop() == 0


def test_reload_with_broken_config_keeps_running(poshtad):
    poshtad.start(workers=1, body="echo {\n\tgreeting \"one\";\n}")
    text = poshtad.config(workers=1, body="echo {\n\tgreeting \"two\"\n}")
    poshtad.write_config(text)
    poshtad.signal(signal.SIGHUP)
    poshtad.wait_log(r"%s:\d+:" % poshtad.conf_path)
    assert poshtad.proc.poll() is None
    assert greeting_is(poshtad, "+OK one")
