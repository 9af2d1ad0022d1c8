/* The config file parser: reads nginx-style text into a tree of nodes and
 * expands "include" in place (paths relative to the including file, globs
 * sorted), within the bounds conf.h states. Every error, including a bad
 * byte, a missing file or an include cycle, is "file:line: message". */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

enum tok { TOK_EOF, TOK_WORD, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_ERROR };

struct lexer {
	const char *p, *end;
	const char *file; /* interned */
	int line;         /* of p */
	int tok_line;     /* where the last token began */
	size_t wlen;
	char word[PS_CONF_MAX_WORD + 1];
};

/* Files being read, outermost first, so an include cycle is caught. */
struct open_file {
	dev_t dev;
	ino_t ino;
};

struct parser {
	struct ps_conf_tree *t;
	struct ps_error *err;
	int depth;   /* blocks open */
	int level;   /* includes open */
	size_t nopen;
	struct open_file open[PS_CONF_MAX_INCLUDE + 1];
};

/* Where the next node of a list goes. */
struct tail {
	struct ps_conf_node **next;
};

static int parse_list(struct parser *ps, struct lexer *lx, struct tail *tl,
		      const struct ps_conf_node *block);
static int parse_buffer(struct parser *ps, const char *name, const char *text,
			size_t len, struct tail *tl);

const char *
ps_conf_excerpt(char buf[PS_CONF_EXCERPT], const char *text)
{
	size_t n = strlen(text), keep = n;

	if (n >= PS_CONF_EXCERPT)
		keep = PS_CONF_EXCERPT - 4;
	for (size_t i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)text[i];
		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	strcpy(buf + keep, n > keep ? "..." : "");
	return buf;
}

int
ps_conf_fail(struct ps_error *err, const char *file, int line,
	     const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (file && line > 0)
		return ps_error_set(err, "%s:%d: %s", file, line, msg);
	if (file)
		return ps_error_set(err, "%s: %s", file, msg);
	return ps_error_set(err, "%s", msg);
}

/* ---- Lexer ----------------------------------------------------------- */

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Bytes that end a word. */
static int
is_special(int c)
{
	return is_space(c) || c == ';' || c == '{' || c == '}' || c == '#' ||
	       c == '"' || c == '\'';
}

static void
skip_blanks(struct lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (is_space(*lx->p)) {
			lx->line += *lx->p++ == '\n';
		} else {
			break;
		}
	}
}

static int
put_char(struct parser *ps, struct lexer *lx, char c)
{
	if (lx->wlen == PS_CONF_MAX_WORD)
		return ps_conf_fail(ps->err, lx->file, lx->tok_line,
				    "word longer than %d bytes",
				    PS_CONF_MAX_WORD);
	lx->word[lx->wlen++] = c;
	return 0;
}

static int
read_word(struct parser *ps, struct lexer *lx)
{
	while (lx->p < lx->end && !is_special((unsigned char)*lx->p))
		if (put_char(ps, lx, *lx->p++) < 0)
			return -1;
	return 0;
}

/* The escape after a backslash in a double-quoted string, at lx->p, into
 * *c_r. Only \" \\ \n \t exist, so a stray backslash is caught. */
static int
read_escape(struct parser *ps, struct lexer *lx, char *c_r)
{
	char e = *lx->p;

	switch (e) {
	case '"':
	case '\\':
		*c_r = e;
		break;
	case 'n':
		*c_r = '\n';
		break;
	case 't':
		*c_r = '\t';
		break;
	default:
		return ps_conf_fail(ps->err, lx->file, lx->line,
				    "bad escape '\\%c' in string",
				    e > 0x20 && e < 0x7f ? e : '?');
	}
	lx->p++;
	return 0;
}

/* A quoted string; single quotes are literal, double quotes take escapes.
 * Strings may span lines. */
static int
read_string(struct parser *ps, struct lexer *lx)
{
	char quote = *lx->p++;

	while (lx->p < lx->end && *lx->p != quote) {
		char c = *lx->p++;
		lx->line += c == '\n';
		if (c == '\\' && quote == '"' && lx->p < lx->end &&
		    read_escape(ps, lx, &c) < 0)
			return -1;
		if (put_char(ps, lx, c) < 0)
			return -1;
	}
	if (lx->p == lx->end)
		return ps_conf_fail(ps->err, lx->file, lx->tok_line,
				    "unterminated string");
	lx->p++;
	return 0;
}

/* Words and strings must be apart: 'a"b"' and '"a"b' are typos, not one
 * word, and reading them as two would hide the mistake. */
static int
check_gap(struct parser *ps, struct lexer *lx, int was_string)
{
	char ex[PS_CONF_EXCERPT];
	char c;

	if (lx->p == lx->end)
		return 0;
	c = *lx->p;
	if (c != '"' && c != '\'' && (!was_string || is_special(c)))
		return 0;
	return ps_conf_fail(ps->err, lx->file, lx->line,
			    "missing space after '%s'",
			    ps_conf_excerpt(ex, lx->word));
}

static enum tok
lex_next(struct parser *ps, struct lexer *lx)
{
	int quoted;

	skip_blanks(lx);
	lx->tok_line = lx->line;
	lx->wlen = 0;
	if (lx->p == lx->end)
		return TOK_EOF;
	switch (*lx->p) {
	case ';':
		lx->p++;
		return TOK_SEMI;
	case '{':
		lx->p++;
		return TOK_OPEN;
	case '}':
		lx->p++;
		return TOK_CLOSE;
	}
	quoted = *lx->p == '"' || *lx->p == '\'';
	if ((quoted ? read_string(ps, lx) : read_word(ps, lx)) < 0)
		return TOK_ERROR;
	lx->word[lx->wlen] = '\0';
	return check_gap(ps, lx, quoted) < 0 ? TOK_ERROR : TOK_WORD;
}

/* ---- Files ----------------------------------------------------------- */

/* The tree's copy of a file name, shared by every node from that file. */
static const char *
intern(struct ps_conf_tree *t, const char *name)
{
	char **files;

	for (size_t i = 0; i < t->nfiles; i++)
		if (!strcmp(t->files[i], name))
			return t->files[i];
	files = realloc(t->files, (t->nfiles + 1) * sizeof(*files));
	if (!files)
		return NULL;
	t->files = files;
	if (!(files[t->nfiles] = strdup(name)))
		return NULL;
	return files[t->nfiles++];
}

/* Read fd into buf until end of file or cap bytes. Returns the length,
 * or -1 with errno set. */
static ssize_t
read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Open a config file; from/line say where it was asked for (NULL/0 for
 * the main file). Opening non-blocking and refusing anything but a
 * regular file keeps a FIFO or a device from hanging or flooding us. */
static int
open_conf(struct parser *ps, const char *from, int line, const char *path,
	  struct stat *st_r)
{
	char ex[PS_CONF_EXCERPT];
	int fd, e;

	ps_conf_excerpt(ex, path);
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return ps_conf_fail(ps->err, from, line, "cannot open '%s': %s",
				    ex, strerror(errno));
	if (fstat(fd, st_r) < 0) {
		e = errno;
		close(fd);
		return ps_conf_fail(ps->err, from, line, "cannot read '%s': %s",
				    ex, strerror(e));
	}
	if (S_ISREG(st_r->st_mode) && st_r->st_size <= PS_CONF_MAX_FILE)
		return fd;
	close(fd);
	if (!S_ISREG(st_r->st_mode))
		return ps_conf_fail(ps->err, from, line,
				    "'%s' is not a regular file", ex);
	return ps_conf_fail(ps->err, from, line, "'%s' is larger than 1 MiB",
			    ex);
}

/* Read a whole config file into *text_r (malloc'd). */
static int
read_conf(struct parser *ps, const char *from, int line, const char *path,
	  char **text_r, size_t *len_r, struct stat *st_r)
{
	char ex[PS_CONF_EXCERPT];
	ssize_t len;
	size_t cap;
	char *buf;
	int fd;

	if ((fd = open_conf(ps, from, line, path, st_r)) < 0)
		return -1;
	/* One byte spare, to notice a file that grew meanwhile. */
	cap = (size_t)st_r->st_size + 1;
	if (!(buf = malloc(cap))) {
		close(fd);
		return ps_conf_fail(ps->err, from, line, "out of memory");
	}
	ps_conf_excerpt(ex, path);
	if ((len = read_all(fd, buf, cap)) < 0)
		ps_conf_fail(ps->err, from, line, "cannot read '%s': %s", ex,
			     strerror(errno));
	else if ((size_t)len == cap)
		ps_conf_fail(ps->err, from, line,
			     "'%s' changed while being read", ex);
	close(fd);
	if (len < 0 || (size_t)len == cap) {
		free(buf);
		return -1;
	}
	*text_r = buf;
	*len_r = (size_t)len;
	return 0;
}

static int
is_glob(const char *path)
{
	return strpbrk(path, "*?[") != NULL;
}

/* path relative to the folder of file, unless absolute. For a glob, the
 * folder's own metacharacters are escaped so they match literally. */
static char *
resolve(const char *file, const char *path, int glob)
{
	const char *slash = strrchr(file, '/');
	size_t dirlen;
	char *buf, *p;

	if (path[0] == '/' || !slash)
		return strdup(path);
	dirlen = (size_t)(slash - file) + 1;
	if (!(buf = malloc(2 * dirlen + strlen(path) + 1)))
		return NULL;
	p = buf;
	for (size_t i = 0; i < dirlen; i++) {
		if (glob && strchr("*?[\\", file[i]))
			*p++ = '\\';
		*p++ = file[i];
	}
	strcpy(p, path);
	return buf;
}

/* Parse one included file into tl, from file:line. */
static int
include_file(struct parser *ps, const char *from, int line, const char *path,
	     struct tail *tl)
{
	char ex[PS_CONF_EXCERPT];
	struct stat st;
	size_t len;
	char *text;
	int r;

	if (ps->level == PS_CONF_MAX_INCLUDE)
		return ps_conf_fail(ps->err, from, line,
				    "include nested too deep");
	if (read_conf(ps, from, line, path, &text, &len, &st) < 0)
		return -1;
	for (size_t i = 0; i < ps->nopen; i++) {
		if (ps->open[i].dev == st.st_dev &&
		    ps->open[i].ino == st.st_ino) {
			free(text);
			return ps_conf_fail(ps->err, from, line,
					    "include cycle at '%s'",
					    ps_conf_excerpt(ex, path));
		}
	}
	ps->open[ps->nopen++] = (struct open_file){st.st_dev, st.st_ino};
	ps->level++;
	r = parse_buffer(ps, path, text, len, tl);
	ps->level--;
	ps->nopen--;
	free(text);
	return r;
}

/* Stop glob at a folder it cannot read (an unreadable conf.d/ must not
 * silently drop its files); a missing one just matches nothing. */
static int
glob_error(const char *path, int e)
{
	return e != ENOENT && e != ENOTDIR;
}

/* "include PATTERN;" at from:line. A glob matching nothing is fine (an
 * empty conf.d/), a plain path that is missing is not. */
static int
include(struct parser *ps, const char *from, int line, const char *pattern,
	struct tail *tl)
{
	char ex[PS_CONF_EXCERPT];
	int glob_r, r = 0;
	glob_t g;
	char *path;

	if (!(path = resolve(from, pattern, is_glob(pattern))))
		return ps_conf_fail(ps->err, from, line, "out of memory");
	if (!is_glob(pattern)) {
		r = include_file(ps, from, line, path, tl);
		free(path);
		return r;
	}
	memset(&g, 0, sizeof(g));
	glob_r = glob(path, 0, glob_error, &g);
	free(path);
	if (glob_r == GLOB_NOSPACE)
		r = ps_conf_fail(ps->err, from, line, "out of memory");
	else if (glob_r == GLOB_ABORTED)
		r = ps_conf_fail(ps->err, from, line, "cannot read '%s'",
				 ps_conf_excerpt(ex, pattern));
	for (size_t i = 0; glob_r == 0 && r == 0 && i < g.gl_pathc; i++)
		r = include_file(ps, from, line, g.gl_pathv[i], tl);
	globfree(&g);
	return r;
}

/* ---- Parser ---------------------------------------------------------- */

static void
free_words(char **w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i]);
}

/* "workers 2" for "missing ';' after 'workers 2'". */
static const char *
directive_text(char buf[PS_CONF_EXCERPT], char *const *w, size_t n)
{
	char joined[PS_CONF_EXCERPT + 1];
	size_t len = 0;

	joined[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(joined) - 1; i++) {
		int k = snprintf(joined + len, sizeof(joined) - len, "%s%s",
				 i ? " " : "", w[i]);
		len += (size_t)k;
	}
	return ps_conf_excerpt(buf, joined);
}

/* Make a node of words w[0..n) (name, then arguments), taking them over,
 * and link it at tl. */
static struct ps_conf_node *
add_node(struct tail *tl, char **w, size_t n, const char *file, int line)
{
	struct ps_conf_node *node = calloc(1, sizeof(*node));

	if (!node || !(node->args = malloc(n * sizeof(*node->args)))) {
		free(node);
		return NULL;
	}
	node->name = w[0];
	memcpy(node->args, w + 1, (n - 1) * sizeof(*w));
	node->args[n - 1] = NULL;
	node->nargs = n - 1;
	node->file = file;
	node->line = line;
	*tl->next = node;
	tl->next = &node->next;
	return node;
}

/* After a directive's words: its block, or "include". */
static int
finish_directive(struct parser *ps, struct lexer *lx, struct tail *tl,
		 char **w, size_t n, int line, enum tok end)
{
	struct ps_conf_node *node;
	struct tail children;
	int r;

	if (!strcmp(w[0], "include")) {
		if (end == TOK_OPEN)
			r = ps_conf_fail(ps->err, lx->file, line,
					 "'include' takes no block");
		else if (n != 2)
			r = ps_conf_fail(ps->err, lx->file, line,
					 "'include' takes one path");
		else
			r = include(ps, lx->file, line, w[1], tl);
		free_words(w, n);
		return r;
	}
	if (!(node = add_node(tl, w, n, lx->file, line))) {
		free_words(w, n);
		return ps_conf_fail(ps->err, lx->file, line, "out of memory");
	}
	if (end == TOK_SEMI)
		return 0;
	if (ps->depth == PS_CONF_MAX_DEPTH)
		return ps_conf_fail(ps->err, lx->file, line,
				    "blocks nested too deep (max %d)",
				    PS_CONF_MAX_DEPTH);
	node->has_block = 1;
	children.next = &node->children;
	ps->depth++;
	r = parse_list(ps, lx, &children, node);
	ps->depth--;
	return r;
}

/* One directive; its first word is in lx->word. */
static int
parse_directive(struct parser *ps, struct lexer *lx, struct tail *tl)
{
	char ex[PS_CONF_EXCERPT];
	char *w[PS_CONF_MAX_ARGS + 1];
	int line = lx->tok_line, last_line;
	size_t n = 0;
	enum tok t;

	do {
		if (n == PS_CONF_MAX_ARGS + 1) {
			ps_conf_fail(ps->err, lx->file, lx->tok_line,
				     "too many arguments to '%s' (max %d)",
				     ps_conf_excerpt(ex, w[0]),
				     PS_CONF_MAX_ARGS);
			goto fail;
		}
		if (!(w[n] = strdup(lx->word))) {
			ps_conf_fail(ps->err, lx->file, lx->tok_line,
				     "out of memory");
			goto fail;
		}
		n++;
		last_line = lx->tok_line;
	} while ((t = lex_next(ps, lx)) == TOK_WORD);
	if (t == TOK_SEMI || t == TOK_OPEN)
		return finish_directive(ps, lx, tl, w, n, line, t);
	if (t != TOK_ERROR)
		ps_conf_fail(ps->err, lx->file, last_line,
			     "missing ';' after '%s'",
			     directive_text(ex, w, n));
fail:
	free_words(w, n);
	return -1;
}

/* Directives up to the end of the file (block NULL) or of block. */
static int
parse_list(struct parser *ps, struct lexer *lx, struct tail *tl,
	   const struct ps_conf_node *block)
{
	char ex[PS_CONF_EXCERPT];

	for (;;) {
		switch (lex_next(ps, lx)) {
		case TOK_ERROR:
			return -1;
		case TOK_EOF:
			if (!block)
				return 0;
			return ps_conf_fail(ps->err, block->file, block->line,
					    "missing '}' for '%s'",
					    ps_conf_excerpt(ex, block->name));
		case TOK_CLOSE:
			if (block)
				return 0;
			return ps_conf_fail(ps->err, lx->file, lx->tok_line,
					    "unexpected '}'");
		case TOK_SEMI:
			return ps_conf_fail(ps->err, lx->file, lx->tok_line,
					    "unexpected ';'");
		case TOK_OPEN:
			return ps_conf_fail(ps->err, lx->file, lx->tok_line,
					    "unexpected '{'");
		case TOK_WORD:
			if (parse_directive(ps, lx, tl) < 0)
				return -1;
		}
	}
}

static int
parse_buffer(struct parser *ps, const char *name, const char *text,
	     size_t len, struct tail *tl)
{
	const char *nul = memchr(text, '\0', len);
	struct lexer *lx;
	const char *file;
	int r;

	if (!(file = intern(ps->t, name)))
		return ps_conf_fail(ps->err, name, 0, "out of memory");
	if (nul) {
		int line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		return ps_conf_fail(ps->err, file, line, "NUL byte in input");
	}
	/* On the heap: a word buffer per include level is too much stack. */
	if (!(lx = malloc(sizeof(*lx))))
		return ps_conf_fail(ps->err, file, 0, "out of memory");
	lx->p = text;
	lx->end = text + len;
	lx->file = file;
	lx->line = 1;
	r = parse_list(ps, lx, tl, NULL);
	free(lx);
	return r;
}

/* ---- Entry points ---------------------------------------------------- */

static void
free_nodes(struct ps_conf_node *n)
{
	while (n) {
		struct ps_conf_node *next = n->next;
		free_nodes(n->children);
		free(n->name);
		for (size_t i = 0; i < n->nargs; i++)
			free(n->args[i]);
		free(n->args);
		free(n);
		n = next;
	}
}

void
ps_conf_tree_free(struct ps_conf_tree *t)
{
	if (!t)
		return;
	free_nodes(t->root);
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	free(t->files);
	free(t);
}

struct ps_conf_tree *
ps_conf_parse_text(const char *name, const char *text, size_t len,
		   struct ps_error *err)
{
	struct parser ps = {.err = err};
	struct tail tl;
	char ex[PS_CONF_EXCERPT];

	if (len > PS_CONF_MAX_FILE) {
		ps_conf_fail(err, NULL, 0, "'%s' is larger than 1 MiB",
			     ps_conf_excerpt(ex, name));
		return NULL;
	}
	if (!(ps.t = calloc(1, sizeof(*ps.t)))) {
		ps_conf_fail(err, name, 0, "out of memory");
		return NULL;
	}
	tl.next = &ps.t->root;
	if (parse_buffer(&ps, name, text, len, &tl) < 0) {
		ps_conf_tree_free(ps.t);
		return NULL;
	}
	return ps.t;
}

struct ps_conf_tree *
ps_conf_parse_file(const char *path, struct ps_error *err)
{
	struct parser ps = {.err = err};
	struct stat st;
	struct tail tl;
	size_t len;
	char *text;
	int r;

	if (read_conf(&ps, NULL, 0, path, &text, &len, &st) < 0)
		return NULL;
	if (!(ps.t = calloc(1, sizeof(*ps.t)))) {
		free(text);
		ps_conf_fail(err, path, 0, "out of memory");
		return NULL;
	}
	ps.open[ps.nopen++] = (struct open_file){st.st_dev, st.st_ino};
	tl.next = &ps.t->root;
	r = parse_buffer(&ps, path, text, len, &tl);
	free(text);
	if (r < 0) {
		ps_conf_tree_free(ps.t);
		return NULL;
	}
	return ps.t;
}
