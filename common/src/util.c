#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int file_read(const char *path, size_t maxlen, char **bufp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 4096;
	int fd = -1, err = 0;

	if (!path || !bufp)
		return EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	buf = malloc(cap + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap > maxlen) {
				err = EFBIG;
				goto out;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > maxlen) {
			err = EFBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	if (lenp)
		*lenp = len;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

int file_read_secret(const char *path, char **bufp, size_t *lenp)
{
	size_t len = 0;
	int err = file_read(path, 4096, bufp, &len);

	if (err)
		return err;
	if (len > 0 && (*bufp)[len - 1] == '\n')
		(*bufp)[--len] = '\0';
	if (len > 0 && (*bufp)[len - 1] == '\r')
		(*bufp)[--len] = '\0';
	if (len == 0) {
		free(*bufp);
		*bufp = NULL;
		return ENODATA;
	}
	if (lenp)
		*lenp = len;
	return 0;
}

size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void util_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void err_set(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

const char *regex_too_costly(const char *re)
{
	int depth = 0, intervals = 0, after_rep = 0, after_group = 0;

	if (strlen(re) > REGEX_MAX_LEN)
		return "longer than 256 characters";
	for (const char *p = re; *p; p++) {
		int rep = *p == '*' || *p == '+' || *p == '?' || *p == '{';
		int group = after_group;

		if (rep && after_rep)
			return "a repetition operator right after another";
		after_rep = rep;
		after_group = *p == ')';
		if (*p == '\\') {
			if (!*++p)
				break;
			continue;
		}
		if (*p == '[') {
			/* "[]...]" and "[^]...]": a leading ']' is literal. */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
			continue;
		}
		if (*p == '(' && ++depth > 8)
			return "nested deeper than 8 groups";
		if (*p == ')' && depth > 0)
			depth--;
		if (*p == '{') {
			/* A group is copied once per repetition, a single atom is one node. */
			int max = group ? 16 : 255;

			if (++intervals > 2)
				return "more than 2 {n,m} intervals";
			for (p++; *p && *p != '}'; p++) {
				if (*p >= '0' && *p <= '9' && atoi(p) > max)
					return group ? "a group interval bound above 16"
					             : "an interval bound above 255";
				while (p[1] >= '0' && p[1] <= '9')
					p++;
			}
			if (!*p)
				break;
		}
	}
	return NULL;
}
