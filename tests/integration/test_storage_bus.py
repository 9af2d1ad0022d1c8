"""A storage change made in one worker reaches every worker through the
bus: what IMAP IDLE in another worker will rely on."""

import os

from conftest import quote, wait_for


def test_append_is_announced_to_every_worker(poshtad):
    mail = os.path.join(poshtad.state, "mail")
    poshtad.start(workers=2, load=("echo", "storage_sqlite", "store_probe"),
                  body="storage_sqlite {\n\tpath %s;\n}\n" % quote(mail))
    workers = poshtad.workers()
    assert len(workers) == 2
    with poshtad.connect() as c:
        c.expect("+OK Poshta echo ready")
        c.command("append alice@example.test", "-ERR appended uid=1")
        c.command("append alice@example.test", "-ERR appended uid=2")

    def announced():
        log = poshtad.log()
        return all("change topic=store/alice@example.test mailbox=INBOX "
                   "pid=%d" % pid in log for pid in workers)
    wait_for("both workers to hear of the change", announced)
    # The message is durable in the user's own database.
    assert os.path.exists(os.path.join(mail, "example.test",
                                       "alice.db"))
