/* status.c - status lines through two common journals (stdout and the events file). */
#include "status.h"

#include "onsight/journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct status {
	struct journal *out;
	struct journal *file;
};

int status_alloc(struct status **sp, int stdout_fd, const char *events_path)
{
	struct status *s = NULL;
	char path[64];
	int err;

	if (!sp)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	/* /proc/self/fd/N reopens stdout (a pipe, a file or a tty) with its own O_APPEND
	 * descriptor, so each line still leaves in a single write(2). */
	if (stdout_fd >= 0)
		snprintf(path, sizeof(path), "/proc/self/fd/%d", stdout_fd);
	err = journal_open(&s->out, stdout_fd >= 0 ? path : NULL, "onsight-ref");
	if (!err)
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
	journal_close(s->out);
	journal_close(s->file);
	free(s);
}

void status_write(struct status *s, const char *event, json_t *fields)
{
	if (!s) {
		json_decref(fields);
		return;
	}
	/* journal_write steals one reference per call: take a second one for the file. */
	if (fields)
		json_incref(fields);
	(void)journal_write(s->out, event, fields);
	(void)journal_write(s->file, event, fields);
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
