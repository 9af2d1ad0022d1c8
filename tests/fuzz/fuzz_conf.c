/* libFuzzer target for the config parser and validator: parses the input
 * as a config file, validates it and every "blk" block against a schema
 * with every value type and two kinds of sub-block ("sub ADDR { }",
 * repeatable, and "one { }"), reads the values back and frees
 * everything. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const modes[] = {"plain", "starttls", "tls", NULL};

static const struct ps_directive directives[] = {
	{.name = "flag", .type = PS_CONF_FLAG, .def = "off"},
	{.name = "workers", .type = PS_CONF_INT, .min = 1, .max = 64,
	 .def = "4"},
	{.name = "offset", .type = PS_CONF_INT, .min = -100},
	{.name = "size", .type = PS_CONF_SIZE, .min = 1024, .max = 1LL << 30},
	{.name = "timeout", .type = PS_CONF_DURATION, .def = "30s"},
	{.name = "name", .type = PS_CONF_STRING},
	{.name = "path", .type = PS_CONF_PATH, .def = "/var/lib/poshta"},
	{.name = "mode", .type = PS_CONF_ENUM, .choices = modes},
	{.name = "listen", .type = PS_CONF_ADDR, .flags = PS_CONF_MULTI},
	{.name = "alias", .type = PS_CONF_WORDS, .flags = PS_CONF_MULTI,
	 .min = 1, .max = 3, .def = "a b"},
	{.name = NULL},
};

static const struct ps_directive required[] = {
	{.name = "need", .type = PS_CONF_WORDS, .flags = PS_CONF_REQUIRED},
	{.name = NULL},
};

static const struct ps_conf_block sub_block = {
	.size = sizeof(struct ps_conf_block), .name = "sub",
	.flags = PS_CONF_MULTI, .args = {.type = PS_CONF_ADDR},
	.directives = directives,
};
static const struct ps_conf_block one_block = {
	.size = sizeof(struct ps_conf_block), .name = "one",
	.directives = required,
};
static const struct ps_conf_block *const sub_blocks[] = {&sub_block,
							 &one_block};

static const struct ps_directive *sets[] = {directives, required};
static const struct ps_conf_schema schema = {
	.sets = sets, .nsets = 2, .blocks = sub_blocks, .nblocks = 2,
};
static const char *const blocks[] = {"blk", NULL};

/* The scratch folder, and the input's name: a file in it, so relative
 * includes resolve there. */
static char dir[] = "/tmp/fuzz_conf_XXXXXX";
static char name[64];
static const char *const files[] = {"a.conf", "b.conf", "loop.conf",
				    "bad.conf", "fifo", NULL};

static void
path_of(char *buf, size_t size, const char *file)
{
	snprintf(buf, size, "%s/%s", dir, file);
}

static void
put(const char *file, const char *text)
{
	char path[64];
	FILE *f;

	path_of(path, sizeof(path), file);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void
cleanup(void)
{
	char path[64];

	for (size_t i = 0; files[i]; i++) {
		path_of(path, sizeof(path), files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* A scratch folder of files to include: good ones, a cycle, a broken one
 * and a FIFO (which must be refused, not waited on). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char fifo[64];

	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	put(files[0], "workers 3;\nblk x { need y; }\n");
	put(files[1], "include a.conf;\nsize 1m;\n");
	put(files[2], "include loop.conf;\n");
	put(files[3], "}\n");
	path_of(fifo, sizeof(fifo), files[4]);
	if (mkfifo(fifo, 0600) < 0)
		abort();
	path_of(name, sizeof(name), "fuzz.conf");
	return 0;
}

static void
read_values(const struct ps_conf_section *s)
{
	for (const struct ps_directive *d = directives; d->name; d++) {
		size_t n = ps_conf_section_count(s, d->name);
		for (size_t i = 0; i <= n; i++) {
			const struct ps_conf_value *v;
			v = ps_conf_section_get(s, d->name, i);
			if ((v == NULL) != (i == n) ||
			    (v && (!v->str || !v->words || !v->file ||
				   v->words[v->nwords])))
				abort();
		}
	}
}

/* The values, then each sub-block's arguments and values. */
static void
read_back(const struct ps_conf_section *s)
{
	read_values(s);
	for (size_t b = 0; b < 2; b++) {
		const char *bn = sub_blocks[b]->name;
		size_t n = ps_conf_section_block_count(s, bn);
		for (size_t i = 0; i <= n; i++) {
			const struct ps_conf_value *args;
			const struct ps_conf_section *sub;
			sub = ps_conf_section_sub(s, bn, i, &args);
			if ((sub == NULL) != (i == n) || (sub == NULL) !=
			    (args == NULL) || (args && !args->file))
				abort();
			if (sub)
				read_values(sub);
		}
	}
}

static void
validate(const struct ps_conf_node *first, const struct ps_conf_node *block)
{
	struct ps_error err = {""};
	struct ps_conf_section *s;

	if (block)
		s = ps_conf_section_block(block, &schema, blocks, &err);
	else
		s = ps_conf_section_new(first, &schema, blocks, &err);
	if (!s && !err.msg[0])
		abort();
	if (s)
		read_back(s);
	ps_conf_section_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_error err = {""};
	struct ps_conf_tree *t;

	/* No '/': includes stay inside the scratch folder, so the fuzzer
	 * never wanders the file system through an absolute glob. */
	if (memchr(data, '/', size))
		return 0;
	t = ps_conf_parse_text(name, (const char *)data, size, &err);
	if (!t) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	validate(t->root, NULL);
	for (const struct ps_conf_node *n = t->root; n; n = n->next)
		if (n->has_block && !strcmp(n->name, "blk"))
			validate(NULL, n);
	ps_conf_tree_free(t);
	return 0;
}
