"""smtp.so's recipient cache (recipient_cache_ttl, modules/smtp/
rcpt_cache.c): a worker reuses the auth backend's answer for a recipient
that resolved to users without a quota, for the configured time. Unknown
recipients are asked every time, users with a quota too, and 0 turns the
cache off."""

import time

from smtp_helpers import dot_stuff, message, start_smtp

BOB = "bob@example.test"
SENDER = "sender@remote.test"


def rcpt(env, address, mail_params=""):
    """The reply to RCPT TO:<address> in a fresh transaction."""
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>%s" % (SENDER, mail_params)).check(250)
        r = c.cmd("RCPT TO:<%s>" % address)
        c.quit()
    return r


def test_unknown_recipient_is_asked_again(poshtad):
    env = start_smtp(poshtad)
    rcpt(env, "dave@example.test").check(550, "5.1.1")
    env.ctl.add_user_fast("dave@example.test", "dave pass 4")
    rcpt(env, "dave@example.test").check(250, "2.1.5")


def test_known_recipient_is_reused_for_the_ttl(poshtad):
    """A disabled user is refused once its answer expires, not before:
    the window is the one a message has between RCPT and its end of
    data anyway."""
    env = start_smtp(poshtad, smtp_opts={"recipient_cache_ttl": "2s"})
    rcpt(env, BOB).check(250, "2.1.5")
    asked = time.monotonic()
    env.ctl.ok("user", "disable", BOB)
    r = rcpt(env, BOB)
    if time.monotonic() - asked < 1.5:
        r.check(250, "2.1.5")
    time.sleep(max(0, asked + 2.3 - time.monotonic()))
    r = rcpt(env, BOB)
    assert r.code == 550 and r.enh in ("5.1.1", "5.2.1"), r.lines


def test_ttl_zero_asks_every_time(poshtad):
    env = start_smtp(poshtad, smtp_opts={"recipient_cache_ttl": "0"})
    rcpt(env, BOB).check(250, "2.1.5")
    env.ctl.ok("user", "disable", BOB)
    r = rcpt(env, BOB)
    assert r.code == 550 and r.enh in ("5.1.1", "5.2.1"), r.lines


def test_recipient_with_a_quota_is_asked_every_time(poshtad):
    """Its usage changes with every delivery: after a message that
    leaves less room than the next one declares (SIZE=, RFC 1870 6), the
    next RCPT is a 452 at once."""
    env = start_smtp(poshtad, smtp_opts={"recipient_cache_ttl": "1h"})
    env.ctl.ok("quota", "set", BOB, "4k")
    rcpt(env, BOB, " SIZE=2000").check(250, "2.1.5")
    with env.client() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
        c.cmd("RCPT TO:<%s>" % BOB).check(250, "2.1.5")
        c.cmd("DATA").check(354)
        c.send(dot_stuff(message(subject="fill", body_text="z" * 3000)))
        c.reply().check(250, "2.0.0")
        c.quit()
    rcpt(env, BOB, " SIZE=2000").check(452, "4.2.2")


def test_alias_answer_is_reused(poshtad):
    """postmaster@ is an alias of alice: a cached answer delivers to the
    user the alias named, as the backend's did."""
    env = start_smtp(poshtad, smtp_opts={"recipient_cache_ttl": "1h"})
    for n in range(3):
        with env.client() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<%s>" % SENDER).check(250)
            c.cmd("RCPT TO:<postmaster@example.test>").check(250, "2.1.5")
            c.cmd("DATA").check(354)
            c.send(dot_stuff(message(subject="n%d" % n)))
            c.reply().check(250, "2.0.0")
            c.quit()
    assert env.count("alice@example.test") == 3
