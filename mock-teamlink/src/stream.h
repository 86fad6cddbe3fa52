/* stream.h - a non-blocking TCP or TLS byte stream on the event loop, with an output queue.
 *
 * Used for the tunnel's own connection, for SIP connections to upstream servers and by the
 * client library. The owner gets "readable" calls (it reads with stream_read until it
 * returns STREAM_AGAIN) and events: up (connect + handshake done), drained (the output queue
 * fell below the low-water mark), error (the stream is dead; the owner frees it).
 */
#ifndef TEAMLINK_STREAM_H
#define TEAMLINK_STREAM_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evloop;
struct stream;

enum stream_event { STREAM_UP, STREAM_DRAINED, STREAM_ERROR };

typedef void(stream_readable_h)(struct stream *s, void *arg);
/* For STREAM_ERROR, err is an errno and what a short text. */
typedef void(stream_event_h)(struct stream *s, enum stream_event ev, int err, const char *what,
                             void *arg);

#define STREAM_AGAIN (-2)
#define STREAM_FAIL (-1)

/* Takes ownership of fd and ssl (may be NULL). connecting: fd is a pending connect.
 * handshake: ssl needs SSL_do_handshake (client or server state set by the caller).
 * Calls STREAM_UP once usable (from the loop, never from inside this call). */
int stream_alloc(struct stream **sp, struct evloop *loop, int fd, SSL *ssl, int connecting,
                 int handshake, size_t max_queue, stream_readable_h *rh, stream_event_h *eh,
                 void *arg) __attribute__((warn_unused_result));
/* Closes the socket (TLS close_notify best effort) and frees; NULL is a no-op. */
void stream_free(struct stream *s);

/* >0 bytes, 0 EOF, STREAM_AGAIN, or STREAM_FAIL (stream_errstr says why; no event is sent). */
ssize_t stream_read(struct stream *s, void *buf, size_t len);
/* Queues len bytes (sending at once when possible). 0, or ENOBUFS when the queue would pass
 * max_queue (nothing is queued then), or EPIPE when the stream is dead. Past half of
 * max_queue a STREAM_DRAINED event follows once the queue falls to a quarter; it also follows
 * whenever a queue that could not be sent at once empties. */
int stream_write(struct stream *s, const void *buf, size_t len);
/* Two-part write (header + payload) queued as one unit. */
int stream_write2(struct stream *s, const void *a, size_t alen, const void *b, size_t blen);
size_t stream_queued(const struct stream *s);
/* Hands the stream to a new owner. */
void stream_set_handlers(struct stream *s, stream_readable_h *rh, stream_event_h *eh, void *arg);
/* Stops/resumes read notifications (flow control). */
void stream_pause(struct stream *s, int paused);
int stream_fd(const struct stream *s);
const char *stream_errstr(const struct stream *s);
/* 1 once connected (and handshaken). */
int stream_is_up(const struct stream *s);

#endif
