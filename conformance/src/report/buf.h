/* buf.h - a growable text buffer with a cap from birth (curl's dynbuf). */
#ifndef CONFORM_BUF_H
#define CONFORM_BUF_H

#include <stddef.h>

struct buf {
	char *s;
	size_t len, cap, max;
	int toobig; /* set once an append would pass max; later appends are dropped */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
int buf_add(struct buf *b, const char *s, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' escaped (HTML text and attribute values, XML alike). */
int buf_esc(struct buf *b, const char *s);
/* Writes the buffer to path atomically (temporary file + rename). */
int buf_write_file(const struct buf *b, const char *path) __attribute__((warn_unused_result));

#endif
