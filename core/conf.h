/* The config file: syntax tree (conf_parse.c) and validation against the
 * declared directives (conf_schema.c).
 *
 * Syntax, in the spirit of nginx:
 *   directive arg arg;            # a comment to end of line
 *   block arg { directive ...; }
 *   include extra.conf;           # relative to the including file;
 *   include *.conf;               # globs expand sorted
 * Words are runs of anything but space, ';', '{', '}', '#' and quotes;
 * "double" quoted strings take \" \\ \n \t escapes, 'single' quoted ones
 * are literal; either may span lines. Words and strings need a space
 * between them.
 * Bounded: 1 MiB per file, 8 levels of include, 16 of nesting, 4 KiB per
 * word, 64 args per directive. */
#ifndef PS_CORE_CONF_H
#define PS_CORE_CONF_H

#include <poshta/config.h>

#define PS_CONF_MAX_FILE (1024 * 1024) /* bytes per file */
#define PS_CONF_MAX_INCLUDE 8          /* levels of include */
#define PS_CONF_MAX_DEPTH 16           /* levels of block nesting */
#define PS_CONF_MAX_WORD 4096          /* bytes per word */
#define PS_CONF_MAX_ARGS 64            /* arguments per directive */

/* ---- Syntax tree ---------------------------------------------------- */

struct ps_conf_node {
	char *name;
	char **args;     /* nargs words, then NULL */
	size_t nargs;
	int has_block;   /* written with { ... } */
	struct ps_conf_node *children; /* first child, if a block */
	struct ps_conf_node *next;     /* next sibling */
	const char *file; /* interned, lives as long as the tree */
	int line;
};

struct ps_conf_tree {
	struct ps_conf_node *root; /* first top-level node */
	char **files;              /* interned file names */
	size_t nfiles;
};

/* Parse path (following includes). On error returns NULL with
 * "file:line: message" in err. */
struct ps_conf_tree *ps_conf_parse_file(const char *path, struct ps_error *err);
/* Parse text in memory; name is used in messages and as the base for
 * relative includes (its folder). */
struct ps_conf_tree *ps_conf_parse_text(const char *name, const char *text,
					size_t len, struct ps_error *err);
void ps_conf_tree_free(struct ps_conf_tree *t);

/* ---- Schema and validated sections ---------------------------------- */

/* A set of directives allowed in one kind of block: a list of arrays (the
 * core's own plus each module's), each ending with a NULL name; and the
 * named sub-blocks it may hold (since SDK 1.5), each validated against
 * its own directives into a section of its own. Sub-blocks hold no
 * further sub-blocks. */
struct ps_conf_schema {
	const struct ps_directive **sets;
	size_t nsets;
	const struct ps_conf_block *const *blocks;
	size_t nblocks;
};

/* Check a single value against d. Returns 0, or -1 with err->msg set to
 * a message without location ("workers: expected an integer, got 'x'").
 * Every type but WORDS takes exactly one argument. Bounds: min always
 * applies, max == 0 means no upper bound (WORDS: counts, at least 1).
 * On success out is overwritten: str and words point into args (borrowed),
 * file is NULL and line 0. */
int ps_conf_check_value(const struct ps_directive *d, char *const *args,
			size_t nargs, struct ps_conf_value *out,
			struct ps_error *err);

/* A validated block: the values of every directive in the schema (given or
 * default), plus child blocks kept as nodes for the caller to validate
 * with their own schema. Lives until ps_conf_section_free. */
struct ps_conf_section;

/* Validate the directives of node list "first" against schema. Child
 * blocks whose name is in block_names (NULL-terminated) are allowed and
 * left to the caller; anything else unknown is an error. Returns NULL with
 * "file:line: message" in err. */
struct ps_conf_section *ps_conf_section_new(const struct ps_conf_node *first,
					    const struct ps_conf_schema *schema,
					    const char *const *block_names,
					    struct ps_error *err);
/* Like ps_conf_section_new for the children of block, naming the block in
 * messages: "x.conf:4: block 'smtp' lacks required directive 'hostname'".
 * (ps_conf_section_new, not knowing the block, says "x.conf: missing
 * required directive 'state_dir'", naming the file of first.) */
struct ps_conf_section *
ps_conf_section_block(const struct ps_conf_node *block,
		      const struct ps_conf_schema *schema,
		      const char *const *block_names, struct ps_error *err);
void ps_conf_section_free(struct ps_conf_section *s);

/* The index-th value of name; a directive not given but with a default
 * has that one value (file "(default)", line 0). NULL when there is none.
 * The count includes that default. s may be NULL (an outbound
 * connection's listen block): nothing is there. */
const struct ps_conf_value *ps_conf_section_get(const struct ps_conf_section *s,
						const char *name, size_t index);
size_t ps_conf_section_count(const struct ps_conf_section *s, const char *name);
/* The sub-blocks called name: how many, and the index-th one's section
 * and arguments (*args_r, when args_r is not NULL; NULL with the section
 * when there is none). Both live as long as s. s may be NULL. */
size_t ps_conf_section_block_count(const struct ps_conf_section *s,
				   const char *name);
const struct ps_conf_section *
ps_conf_section_sub(const struct ps_conf_section *s, const char *name,
		    size_t index, const struct ps_conf_value **args_r);

/* ---- Shared by the parser and the validator -------------------------- */

#define PS_CONF_EXCERPT 48

/* Copy text into buf for a message: control bytes as '?', cut with "..."
 * when longer than buf. Returns buf. */
const char *ps_conf_excerpt(char buf[PS_CONF_EXCERPT], const char *text);
/* Set err to "file:line: message" ("file: message" when line is 0, just
 * the message when file is NULL too). Returns PS_EFAIL. */
int ps_conf_fail(struct ps_error *err, const char *file, int line,
		 const char *fmt, ...) PS_PRINTF(4, 5);

#endif
