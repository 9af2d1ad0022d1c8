/* Files other MDAs delivered may end their lines with a bare LF; RFC
 * 5322 2.1 and IMAP (RFC 3501 2.3.4, RFC822.SIZE) speak of CRLF lines,
 * and a size must equal what a read of the whole message returns. Such
 * a file is served with every LF not after a CR as CRLF, as Dovecot
 * does: its size so counted is Dovecot's ",W=" (virtual size) when the
 * name has one, else counted once and kept in the index (index.c). The
 * files stay as they are. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_maildir.h"

/* The number after key (",S=" or ",W=") in a file name's base; -1 when
 * there is none. */
int
md_name_size(const char *name, const char *key, uint64_t *v_r)
{
	size_t base = md_base_len(name), klen = strlen(key);
	char *end;

	for (const char *p = name; (p = strstr(p, key)) &&
				   (size_t)(p - name) < base; p++) {
		unsigned long long v;

		if (p[klen] < '0' || p[klen] > '9')
			continue;
		errno = 0;
		v = strtoull(p + klen, &end, 10);
		if (errno || (*end && *end != ',' && *end != ':'))
			continue;
		*v_r = v;
		return 0;
	}
	return -1;
}

/* The size of the file at path with its bare LFs counted as CRLF. */
int
md_crlf_count(const char *path, uint64_t *vsize_r)
{
	char buf[65536];
	uint64_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), prev_cr = 0;
	ssize_t got;

	if (fd < 0)
		return -1;
	while ((got = read(fd, buf, sizeof(buf))) > 0 ||
	       (got < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < got; i++) {
			n += 1 + (buf[i] == '\n' && !prev_cr);
			prev_cr = buf[i] == '\r';
		}
	}
	close(fd);
	if (got < 0)
		return -1;
	*vsize_r = n;
	return 0;
}

/* Up to len octets of the CRLF view of fd from offset. Reading starts
 * where pos says the last read of this message stopped, when that is
 * not past offset, else at the start: a body read in pieces costs one
 * pass. pos moves only to whole expansions of a file octet. */
int
md_crlf_read(int fd, struct md_crlf_pos *pos, uint32_t uid, uint64_t offset,
	     void *buf, size_t len, size_t *got_r)
{
	unsigned char in[16384], *out = buf;
	size_t o = 0;

	if (pos->uid != uid || pos->voff > offset)
		*pos = (struct md_crlf_pos){ .uid = uid };
	*got_r = 0;
	while (o < len) {
		ssize_t n = pread(fd, in, sizeof(in), (off_t)pos->poff);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n && o < len; i++) {
			unsigned char c = in[i];
			int add_cr = c == '\n' && !pos->prev_cr;
			uint64_t v = pos->voff;

			/* The expansion: [CR] c, octets v.. of the view. */
			if (add_cr && v >= offset)
				out[o++] = '\r';
			if (o == len && add_cr && v >= offset)
				break; /* the LF goes with the next read */
			if (v + add_cr >= offset)
				out[o++] = c;
			pos->voff = v + add_cr + 1;
			pos->poff++;
			pos->prev_cr = c == '\r';
		}
	}
	*got_r = o;
	return 0;
}
