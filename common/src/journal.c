#include "onsight/journal.h"
#include "onsight/evloop.h"
#include "onsight/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct journal {
	int fd; /* -1: discard */
	char *service;
};

int journal_open(struct journal **jp, const char *path, const char *service)
{
	struct journal *j;

	if (!jp || !service)
		return EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	j->fd = -1;
	j->service = strdup(service);
	if (!j->service) {
		free(j);
		return ENOMEM;
	}
	if (path) {
		j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (j->fd < 0) {
			int err = errno;
			journal_close(j);
			return err;
		}
	}
	*jp = j;
	return 0;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->service);
	free(j);
}

void journal_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	/* The return value is checked so gcc -O2 does not flag a possible truncation: callers
	 * pass 32 bytes or more, and a shorter buffer gets a cut but terminated stamp. */
	if (snprintf(buf, len, "%s.%06ldZ", base, ts.tv_nsec / 1000L) >= (int)len && len)
		buf[len - 1] = '\0';
}

int journal_write(struct journal *j, const char *event, json_t *fields)
{
	char ts[40];
	json_t *line = NULL;
	char *text = NULL;
	size_t n;
	int err = 0;

	if (!j || !event) {
		json_decref(fields);
		return EINVAL;
	}
	if (j->fd < 0) {
		json_decref(fields);
		return 0;
	}
	journal_timestamp(ts, sizeof(ts));
	line = json_pack("{s:s, s:f, s:s, s:s}", "ts", ts, "mono", (double)evloop_now_ns() / 1e9,
	                 "service", j->service, "event", event);
	if (!line) {
		json_decref(fields);
		return ENOMEM;
	}
	if (fields && json_is_object(fields))
		json_object_update_missing(line, fields);
	json_decref(fields);
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!text)
		return ENOMEM;
	n = strlen(text);
	text[n] = '\n'; /* json_dumps leaves room for its NUL: reuse it for the newline */
	if (write(j->fd, text, n + 1) != (ssize_t)(n + 1))
		err = errno ? errno : EIO;
	free(text);
	return err;
}

static int journal_vemit(struct journal *j, const struct sock_addr *local, const char *event,
                         const char *fmt, va_list ap)
{
	json_error_t jerr;
	json_t *fields = NULL;

	if (!j)
		return EINVAL;
	if (j->fd < 0)
		return 0;
	if (fmt) {
		fields = json_vpack_ex(&jerr, 0, fmt, ap);
		if (!fields)
			return EINVAL;
	}
	if (local && local->len) {
		char a[SOCK_ADDR_STRLEN];

		if (!fields)
			fields = json_object();
		if (fields)
			json_object_set_new(fields, "local",
			                    json_string(sock_addr_str(local, a, sizeof(a))));
	}
	return journal_write(j, event, fields);
}

int journal_emit(struct journal *j, const char *event, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = journal_vemit(j, NULL, event, fmt, ap);
	va_end(ap);
	return err;
}

int journal_emit_at(struct journal *j, const struct sock_addr *local, const char *event,
                    const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = journal_vemit(j, local, event, fmt, ap);
	va_end(ap);
	return err;
}
