/* status.h - the endpoint's status lines: JSON Lines on stdout and, with --events, the same
 * lines in a journal file (docs/timeline.md, "Events from journals"). */
#ifndef EP_STATUS_H
#define EP_STATUS_H

#include <jansson.h>

struct status;

/* events_path may be NULL. stdout_fd is normally 1 (-1: no stdout lines, for tests). */
int status_alloc(struct status **sp, int stdout_fd, const char *events_path)
        __attribute__((warn_unused_result));
void status_free(struct status *s);
/* Writes one line; fields (may be NULL) is consumed. */
void status_write(struct status *s, const char *event, json_t *fields);
/* json_pack-format convenience. */
void status_emit(struct status *s, const char *event, const char *fmt, ...);

#endif
