/* journal.h - the machine event journal: JSON Lines, one protocol-level event a line.
 *
 * Every line carries "ts" (ISO-8601 UTC, microseconds), "mono" (monotonic seconds),
 * "service" and "event", then the event's own fields. Each line goes out with a single
 * write(2) on an O_APPEND descriptor, so a crash loses nothing already written and several
 * processes may share one file.
 */
#ifndef ONSIGHT_JOURNAL_H
#define ONSIGHT_JOURNAL_H

#include <jansson.h>

struct journal;
struct sock_addr;

/* path NULL gives a journal that discards everything (so callers need no checks). */
int journal_open(struct journal **jp, const char *path, const char *service)
        __attribute__((warn_unused_result));
void journal_close(struct journal *j);

/* Writes one event; fields (may be NULL) is consumed (its reference is stolen). */
int journal_write(struct journal *j, const char *event, json_t *fields);
/* json_pack-format convenience: journal_emit(j, "login", "{s:s, s:i}", "user", u, "status", 200). */
int journal_emit(struct journal *j, const char *event, const char *fmt, ...);

/* journal_emit plus "local": the server's own address the client reached ("ADDR:PORT", the
 * accepted socket's local address or the bound UDP address), which names the server in a
 * timeline when one process serves several addresses. local NULL or empty adds nothing. */
int journal_emit_at(struct journal *j, const struct sock_addr *local, const char *event,
                    const char *fmt, ...);

/* Formats the current UTC time as "2026-11-24T03:33:23.123456Z". */
void journal_timestamp(char *buf, size_t len);

#endif
