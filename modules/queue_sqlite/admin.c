/* Administration of queue_sqlite, for poshtactl queue hold|release|flush|
 * delete: one message by id, or every message when id is NULL. Each is
 * one durable transaction; release and flush then tell the runners that
 * recipients are due ("queue/due"). */
#include "queue_sqlite.h"

/* Run sql (?1 = mid, ?2 = value) on message id, or sql_all (?1 =
 * value) on every message; without a value, neither has its parameter. */
static int
qs_admin(const char *id, const char *sql, const char *sql_all,
	 int has_value, int64_t value, struct ps_error *err)
{
	sqlite3 *db;
	int64_t mid = 0;
	int r = qs_write_begin(&db, 1, err);

	if (r < 0)
		return r;
	if (id)
		r = qs_mid(db, id, &mid, err);
	if (r == 0)
		r = id ? qs_exec(db, err, sql, has_value ? "ii" : "i", mid,
				 value)
		       : qs_exec(db, err, sql_all, has_value ? "i" : "",
				 value);
	return qs_write_end(db, 1, r < 0 ? r : 0, err);
}

int
qs_hold(const char *id, int held, struct ps_error *err)
{
	int r = qs_admin(id, "UPDATE message SET held = ?2 WHERE mid = ?1",
			 "UPDATE message SET held = ?1", 1, held ? 1 : 0, err);

	if (r == 0 && !held)
		qs_notify(PS_QUEUE_TOPIC_DUE, id);
	return r;
}

/* Waiting recipients become due at now; leased ones finish their
 * attempt first. */
int
qs_flush(const char *id, int64_t now, struct ps_error *err)
{
	int r = qs_admin(id, "UPDATE rcpt SET next_attempt = ?2 WHERE"
			 " mid = ?1 AND state < 2 AND next_attempt > ?2",
			 "UPDATE rcpt SET next_attempt = ?1 WHERE state < 2"
			 " AND next_attempt > ?1", 1, now, err);

	if (r == 0)
		qs_notify(PS_QUEUE_TOPIC_DUE, id);
	return r;
}

/* Chunks and recipients go with the message (ON DELETE CASCADE). No
 * report is made: this is the operator's decision. */
int
qs_remove(const char *id, struct ps_error *err)
{
	return qs_admin(id, "DELETE FROM message WHERE mid = ?1",
			"DELETE FROM message", 0, 0, err);
}
