/* The "imap.ext" interface of <poshta/imap.h>: other modules add
 * commands and CAPABILITY words. The lists live in this module's memory:
 * what init adds in the master is inherited by every worker, what
 * worker_init adds stays in that worker. A command handle is the
 * session itself. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

#define EXT_MAX 32
#define EXT_NAME_MAX 32
#define EXT_WORD_MAX 100

/* Fixed storage: what modules add lives as long as the process. */
static char words[EXT_MAX][EXT_WORD_MAX + 1];
static size_t nwords;

static struct {
	char name[EXT_NAME_MAX + 1];
	unsigned states;
	ps_imap_cmd_fn fn;
	void *arg;
} cmds[EXT_MAX];
static size_t ncmds;

/* RFC 9051 9: ATOM-CHAR, no list-wildcards, quoted-specials or "]". */
static int
atom_char(char c)
{
	return c > 32 && c < 127 && !strchr("(){%*\"\\]", c);
}

static int
ext_add_capability(const char *w)
{
	size_t len;

	if (!w || !(len = strlen(w)) || len > EXT_WORD_MAX)
		return PS_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!atom_char(w[i]))
			return PS_EINVAL;
	for (size_t i = 0; i < nwords; i++)
		if (strcasecmp(words[i], w) == 0)
			return PS_EEXIST;
	if (nwords == EXT_MAX)
		return PS_ENOMEM;
	memcpy(words[nwords++], w, len + 1);
	return 0;
}

static int
ext_add_command(const char *name, unsigned states, ps_imap_cmd_fn fn,
		void *arg)
{
	size_t len;

	if (!name || !fn || !(len = strlen(name)) || len > EXT_NAME_MAX ||
	    !(states & (PS_IMAP_NOTAUTH | PS_IMAP_AUTH | PS_IMAP_SELECTED)))
		return PS_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') &&
		    !(name[i] >= 'A' && name[i] <= 'Z') &&
		    !(name[i] >= '0' && name[i] <= '9') && name[i] != '-')
			return PS_EINVAL;
	if (imap_command_known(name) || imap_ext_find(name))
		return PS_EEXIST;
	if (ncmds == EXT_MAX)
		return PS_ENOMEM;
	for (size_t i = 0; i <= len; i++)
		cmds[ncmds].name[i] = (char)(name[i] >= 'a' && name[i] <= 'z'
					     ? name[i] - 32 : name[i]);
	cmds[ncmds].states = states;
	cmds[ncmds].fn = fn;
	cmds[ncmds].arg = arg;
	ncmds++;
	return 0;
}

/* ---- Inside a command ---------------------------------------------- */

#define S(cmd) ((struct imap_session *)(void *)(cmd))

static size_t
ext_nargs(struct ps_imap_cmd *cmd)
{
	return S(cmd)->nargs;
}

static const char *
ext_arg(struct ps_imap_cmd *cmd, size_t i, size_t *len_r)
{
	struct imap_session *s = S(cmd);
	const char *text;
	size_t len;

	if (i >= s->nargs ||
	    imap_arg_get_astring(&s->args[i], &text, &len) < 0)
		return NULL;
	if (len_r)
		*len_r = len;
	return text;
}

static const char *
ext_user(struct ps_imap_cmd *cmd)
{
	return S(cmd)->user[0] ? S(cmd)->user : NULL;
}

static struct ps_store_user *
ext_store(struct ps_imap_cmd *cmd)
{
	return S(cmd)->store;
}

static struct ps_mbox *
ext_mailbox(struct ps_imap_cmd *cmd)
{
	return S(cmd)->view ? S(cmd)->view->mb : NULL;
}

static const char *
ext_mailbox_name(struct ps_imap_cmd *cmd)
{
	return S(cmd)->view ? S(cmd)->view->name : NULL;
}

static struct ps_conn *
ext_conn(struct ps_imap_cmd *cmd)
{
	return S(cmd)->conn;
}

static int
ext_untagged(struct ps_imap_cmd *cmd, const char *text)
{
	if (strpbrk(text, "\r\n"))
		return PS_EINVAL;
	return imap_printf(S(cmd), "* %s\r\n", text);
}

static void
ext_finish(struct ps_imap_cmd *cmd, const char *status, const char *code,
	   const char *text)
{
	struct imap_session *s = S(cmd);

	if (strcmp(status, "OK") != 0 && strcmp(status, "NO") != 0)
		status = "BAD";
	imap_tagged(s, status, code, "%s", text ? text : "");
	s->ext_finished = 1;
	if (s->ext_pending) {
		s->ext_pending = 0;
		imap_unwait(s);
	}
}

const struct ps_imap_ext imap_ext = {
	.size = sizeof(struct ps_imap_ext),
	.add_capability = ext_add_capability,
	.add_command = ext_add_command,
	.nargs = ext_nargs,
	.arg = ext_arg,
	.user = ext_user,
	.store = ext_store,
	.mailbox = ext_mailbox,
	.mailbox_name = ext_mailbox_name,
	.conn = ext_conn,
	.untagged = ext_untagged,
	.finish = ext_finish,
};

/* ---- For imap.so ----------------------------------------------------- */

void
imap_ext_capabilities(struct imap_buf *b)
{
	for (size_t i = 0; i < nwords; i++) {
		imap_buf_addc(b, ' ');
		imap_buf_adds(b, words[i]);
	}
}

int
imap_ext_find(const char *name)
{
	for (size_t i = 0; i < ncmds; i++)
		if (strcasecmp(cmds[i].name, name) == 0)
			return (int)i + 1;
	return 0;
}

/* Run added command number id (from imap_ext_find) in state bit st. */
int
imap_ext_run(struct imap_session *s, int id, unsigned st)
{
	static const unsigned bits[] = {
		[IMAP_NOTAUTH] = PS_IMAP_NOTAUTH, [IMAP_AUTH] = PS_IMAP_AUTH,
		[IMAP_SELECTED] = PS_IMAP_SELECTED,
	};
	int r;

	if (st > IMAP_SELECTED || !(cmds[id - 1].states & bits[st]))
		return imap_bad(s, "Command not valid in this state");
	s->ext_finished = 0;
	r = cmds[id - 1].fn((struct ps_imap_cmd *)(void *)s, cmds[id - 1].arg);
	if (r == PS_IMAP_PENDING && !s->ext_finished) {
		s->ext_pending = 1;
		imap_wait(s);
		return 0;
	}
	if (r >= 0 && !s->ext_finished) {
		ps_conn_log(s->conn, PS_LOG_ERR, "extension command %s ended "
			    "without an answer", cmds[id - 1].name);
		return imap_no(s, "SERVERBUG", "Command failed");
	}
	return r < 0 ? r : 0;
}
