"""A third-party filter module (tests/modules/smtp_filter.c, built against
the installed SDK) on smtp.so's hooks and extension interface: a refused
sender, a greylisted recipient, a recipient decided later (PENDING) with
pipelined commands kept in order, a header added at smtp.data (stored
locally, and queued for a remote recipient), and an EHLO keyword and verb
of its own."""

import time

from smtp_helpers import (Ctl, Env, LISTENERS, PASSWORDS,
                          smtp_config)

USERS = dict(PASSWORDS)
USERS.update({"grey@example.test": "grey pass", "slow@example.test":
              "slow pass"})


def start(poshtad):
    ctl = Ctl(poshtad)
    ctl.seed(USERS, aliases=())
    text = smtp_config(poshtad, {"smtp": dict(LISTENERS["smtp"])}, None, 1,
                       "info")
    text = text.replace("load storage_sqlite auth_sqlite smtp;",
                        "load storage_sqlite auth_sqlite smtp smtp_filter;")
    assert "smtp_filter;" in text
    poshtad.start(text)
    return Env(poshtad, ctl)


def test_extension_keyword_and_verb(poshtad):
    env = start(poshtad)
    c = env.client()
    assert "XFILTERED" in c.ehlo().keywords()
    c.cmd("XPING hello there").check(250, "2.0.0")
    assert "pong hello there" in c.cmd("xping hello there").texts[0]
    c.quit()


def test_sender_refused_by_policy(poshtad):
    env = start(poshtad)
    c = env.client()
    c.ehlo()
    r = c.cmd("MAIL FROM:<spammer@bad.test>").check(550, "5.7.1")
    assert "refused by policy" in r.texts[0]
    c.cmd("MAIL FROM:<friend@good.test>").check(250)
    c.quit()


def test_greylist_defers_one_recipient_only(poshtad):
    env = start(poshtad)
    c = env.client()
    c.ehlo()
    c.cmd("MAIL FROM:<friend@good.test>").check(250)
    r = c.cmd("RCPT TO:<grey@example.test>").check(451, "4.7.1")
    assert "Greylisted" in r.texts[0]
    c.cmd("RCPT TO:<alice@example.test>").check(250)
    c.cmd("DATA").check(354)
    c.sendline("Subject: filtered\r\n\r\nbody\r\n.")
    c.reply().check(250, "2.0.0")
    c.quit()
    assert env.count("grey@example.test") == 0
    [msg] = env.messages("alice@example.test")
    assert b"X-Smtp-Filter: seen 1 recipients" in msg


def test_pending_verdict_keeps_pipelined_order(poshtad):
    env = start(poshtad)
    c = env.client()
    c.ehlo()
    began = time.monotonic()
    # Everything in one write: the slow recipient's verdict comes from a
    # timer 200 ms later, and the replies must still come in order.
    c.send(b"MAIL FROM:<friend@good.test>\r\n"
           b"RCPT TO:<slow@example.test>\r\n"
           b"RCPT TO:<bob@example.test>\r\n"
           b"DATA\r\n")
    c.reply().check(250)
    c.reply().check(250)
    assert time.monotonic() - began >= 0.2
    c.reply().check(250)
    c.reply().check(354)
    c.sendline("Subject: both\r\n\r\nhi\r\n.")
    c.reply().check(250, "2.0.0")
    c.quit()
    for user in ("slow@example.test", "bob@example.test"):
        [msg] = env.messages(user)
        assert b"X-Smtp-Filter: seen 2 recipients" in msg


def test_queued_body_keeps_the_added_field(poshtad):
    """A submission's remote recipient: the queued body is Received, the
    field the filter added at smtp.data, then the message."""
    from test_smtp_enqueue import FRIEND, queued, send, show, submit_client
    ctl = Ctl(poshtad)
    ctl.seed(USERS, aliases=())
    text = smtp_config(poshtad, {"submission":
                                 dict(LISTENERS["submission"])},
                       None, 1, "info", queue=True)
    text = text.replace("queue_sqlite smtp;", "queue_sqlite smtp "
                        "smtp_filter;")
    assert "smtp_filter;" in text
    poshtad.start(text)
    env = Env(poshtad, ctl)
    msg = b"Subject: out\r\n\r\nbody\r\n"
    c, _ = submit_client(env)
    with c:
        send(c, msg).check(250, "2.0.0")
    [m] = queued(env)
    body = show(env, m["id"])[1]
    received, rest = body.split(b"\r\nX-Smtp-Filter: seen 1 recipients\r\n")
    assert received.startswith(b"Received: ") and rest == msg, body
