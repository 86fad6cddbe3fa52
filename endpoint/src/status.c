/* status.c - status lines through two common journals (stdout and the events file). */
#include "status.h"

#include "onsight/evloop.h"
#include "onsight/journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct status {
	int out_fd; /* -1: no stdout lines */
	struct journal *file;
};

/* The stdout line: the journal's layout (ts, mono, service, event, fields), written with one
 * write(2) to the inherited descriptor so its file offset stays shared with the shell's. */
static void write_stdout(struct status *s, const char *event, json_t *fields)
{
	char ts[40], *text;
	json_t *line;
	size_t n;

	if (s->out_fd < 0)
		return;
	journal_timestamp(ts, sizeof(ts));
	line = json_pack("{s:s, s:f, s:s, s:s}", "ts", ts, "mono", (double)evloop_now_ns() / 1e9,
	                 "service", "onsight-ref", "event", event);
	if (!line)
		return;
	if (fields && json_is_object(fields))
		json_object_update_missing(line, fields);
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!text)
		return;
	n = strlen(text);
	text[n] = '\n'; /* json_dumps leaves room for its NUL */
	if (write(s->out_fd, text, n + 1) < 0)
		s->out_fd = -1; /* stdout gone (closed pipe): keep running, journal still works */
	free(text);
}

int status_alloc(struct status **sp, int stdout_fd, const char *events_path)
{
	struct status *s = NULL;
	int err;

	if (!sp)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->out_fd = stdout_fd;
	err = journal_open(&s->file, events_path, "onsight-ref");
	if (err) {
		status_free(s);
		return err;
	}
	*sp = s;
	return 0;
}

void status_free(struct status *s)
{
	if (!s)
		return;
	journal_close(s->file);
	free(s);
}

void status_write(struct status *s, const char *event, json_t *fields)
{
	if (!s) {
		json_decref(fields);
		return;
	}
	write_stdout(s, event, fields);
	(void)journal_write(s->file, event, fields); /* steals fields */
}

void status_emit(struct status *s, const char *event, const char *fmt, ...)
{
	json_error_t jerr;
	json_t *fields = NULL;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		fields = json_vpack_ex(&jerr, 0, fmt, ap);
		va_end(ap);
		if (!fields) {
			fprintf(stderr, "onsight-ref: status %s: %s\n", event, jerr.text);
			return;
		}
	}
	status_write(s, event, fields);
}
