/* buf.c - capped text buffer. */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->toobig)
		return E2BIG;
	if (b->len + n + 1 > b->max) {
		b->toobig = 1;
		return E2BIG;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		char *ns = realloc(b->s, cap);
		if (!ns)
			return ENOMEM;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return EINVAL;
	if ((size_t)n < sizeof(tmp))
		return buf_add(b, tmp, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int e = buf_add(b, big, (size_t)n);
	free(big);
	return e;
}

int buf_esc(struct buf *b, const char *s)
{
	int e = 0;

	for (const char *p = s ? s : ""; *p && !e; p++) {
		switch (*p) {
		case '&':
			e = buf_puts(b, "&amp;");
			break;
		case '<':
			e = buf_puts(b, "&lt;");
			break;
		case '>':
			e = buf_puts(b, "&gt;");
			break;
		case '"':
			e = buf_puts(b, "&quot;");
			break;
		case '\'':
			e = buf_puts(b, "&#39;");
			break;
		default:
			/* XML 1.0 forbids most control characters even escaped. */
			if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
				e = buf_puts(b, "?");
			else
				e = buf_add(b, p, 1);
		}
	}
	return e;
}

int buf_write_file(const struct buf *b, const char *path)
{
	char tmp[4096];
	int fd, e = 0;
	size_t off = 0;

	if (b->toobig)
		return E2BIG;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	while (off < b->len) {
		ssize_t w = write(fd, b->s + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = errno ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (e)
		unlink(tmp);
	return e;
}
