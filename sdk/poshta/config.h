/* Config directives a module declares, and typed access to their values.
 *
 * Directives are data: the core validates the whole file against every
 * declaration before anything starts, and reports "file:line: message". */
#ifndef POSHTA_CONFIG_H
#define POSHTA_CONFIG_H

#include <poshta/types.h>

enum ps_conf_type {
	PS_CONF_FLAG = 1, /* on | off */
	PS_CONF_INT,      /* decimal integer within [min, max] */
	PS_CONF_SIZE,     /* bytes with optional k, m, g suffix (powers of 1024) */
	PS_CONF_DURATION, /* milliseconds; suffix ms, s, m, h, d (bare: seconds) */
	PS_CONF_STRING,   /* one word or quoted string */
	PS_CONF_PATH,     /* a string naming a file or folder */
	PS_CONF_ENUM,     /* one of choices[] */
	PS_CONF_ADDR,     /* host:port, [v6]:port or *:port */
	PS_CONF_WORDS,    /* one or more strings (min..max of them, 0 = any) */
};

/* Where a directive may appear. */
enum ps_conf_scope {
	PS_SCOPE_MODULE = 1, /* inside the block named after the module */
	PS_SCOPE_LISTEN,     /* inside "listen" blocks of the module's protocol */
};

#define PS_CONF_MULTI 0x1    /* may be given more than once */
#define PS_CONF_REQUIRED 0x2 /* must be given (no default) */

/* One directive. Arrays of these end with an entry whose name is NULL. */
struct ps_directive {
	const char *name;
	enum ps_conf_type type;
	unsigned flags;
	long long min, max;         /* INT, SIZE, DURATION bounds; WORDS count */
	const char *const *choices; /* ENUM: NULL-terminated */
	const char *def;            /* default, as it would be written; or NULL */
	const char *help;           /* one line for the config reference */
};

/* Since 1.5: a block inside the module's own block, written
 * "name args... { directives }" (e.g. "relayhost smtp.example:587 { tls
 * required; }"). Declared with ps_conf_register_block; read back with
 * ps_conf_block_count and ps_conf_block. The core copies the struct (up to
 * size); the strings and arrays it points to must outlive the module. */
struct ps_conf_block {
	size_t size;              /* sizeof(struct ps_conf_block) */
	const char *name;         /* the word that opens the block */
	unsigned flags;           /* PS_CONF_MULTI, PS_CONF_REQUIRED */
	/* How the block's arguments are checked, like a directive's value:
	 * type, min/max, choices, and help saying what they are. type 0
	 * means the block takes none. name and def are ignored (messages use
	 * the block's name). */
	struct ps_directive args;
	const struct ps_directive *directives; /* allowed inside; NULL name
						* ends it */
	const char *help;         /* one line for the config reference */
};

/* A value after validation. */
struct ps_conf_value {
	const char *str;   /* the text as written (first word for WORDS) */
	long long num;     /* FLAG 0/1, INT, SIZE bytes, DURATION ms, ENUM index */
	const char *const *words; /* every word, NULL-terminated */
	size_t nwords;
	const char *file;  /* where it was written; "(default)" for defaults */
	int line;
};

#endif
