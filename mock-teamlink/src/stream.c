/* stream.c - TCP/TLS stream with an output queue (see stream.h). */
#define LOG_TAG "stream"
#include "stream.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sock.h"
#include "onsight/tls.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

struct stream {
	struct evloop *loop;
	int fd;
	SSL *ssl;
	int connecting, handshaking, up, dead, paused;
	int read_wants_write, write_wants_read;
	uint32_t events;
	uint8_t *q;
	size_t qoff, qlen, qcap, max_queue;
	int was_full;
	int err_code, err_sent;
	uint64_t kick; /* timer delivering STREAM_UP or buffered TLS data */
	uint64_t flusht; /* timer writing out what this loop iteration queued */
	stream_readable_h *rh;
	stream_event_h *eh;
	void *arg;
	char err[200];
};

static void on_fd(int fd, uint32_t events, void *arg);
static void kick(struct stream *s);

static void update(struct stream *s)
{
	uint32_t ev = 0;

	if (s->dead)
		return;
	if (s->connecting)
		ev = EPOLLOUT;
	else if (s->handshaking)
		ev = s->read_wants_write ? EPOLLOUT : EPOLLIN;
	else {
		if (!s->paused || s->write_wants_read)
			ev |= EPOLLIN;
		if (s->qlen || s->read_wants_write)
			ev |= EPOLLOUT;
	}
	if (ev != s->events) {
		evloop_fd_mod(s->loop, s->fd, ev);
		s->events = ev;
	}
}

static void die(struct stream *s, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Marks the stream dead. The STREAM_ERROR event goes out from the loop, never from inside a
 * call the owner made (stream_write): the owner may free itself in the handler. */
static void die(struct stream *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->dead = 1;
	s->err_code = err ? err : EIO;
	evloop_fd_del(s->loop, s->fd);
	kick(s);
}

static void on_kick(void *arg)
{
	struct stream *s = arg;

	s->kick = 0;
	if (s->dead) {
		if (!s->err_sent) {
			s->err_sent = 1;
			s->eh(s, STREAM_ERROR, s->err_code, s->err, s->arg);
		}
		return;
	}
	if (s->up == 1) {
		s->up = 2;
		s->eh(s, STREAM_UP, 0, NULL, s->arg);
		return; /* s may be gone */
	}
	if (!s->paused)
		s->rh(s, s->arg);
}

static void kick(struct stream *s)
{
	if (!s->kick)
		s->kick = evloop_timer_add(s->loop, 0, on_kick, s);
}

static int flush(struct stream *s);

/* Connected, past the TLS handshake and not failed: queued bytes can be written. */
static int writable(const struct stream *s)
{
	return !s->dead && s->up && !s->handshaking && !s->connecting;
}

static void on_flush(void *arg)
{
	struct stream *s = arg;

	s->flusht = 0;
	if (!writable(s))
		return;
	(void)flush(s);
	update(s);
}

int stream_alloc(struct stream **sp, struct evloop *loop, int fd, SSL *ssl, int connecting,
                 int handshake, size_t max_queue, stream_readable_h *rh, stream_event_h *eh,
                 void *arg)
{
	struct stream *s;
	int err;

	if (!sp || !loop || fd < 0 || !rh || !eh)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->loop = loop;
	s->fd = fd;
	s->ssl = ssl;
	s->connecting = connecting;
	s->handshaking = handshake && ssl;
	s->max_queue = max_queue ? max_queue : (1u << 20);
	s->rh = rh;
	s->eh = eh;
	s->arg = arg;
	s->events = connecting ? EPOLLOUT : EPOLLIN;
	/* Small SIP messages and datagram frames must not wait for Nagle + delayed ACK. */
	{
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	err = evloop_fd_add(loop, fd, s->events, on_fd, s);
	if (err) {
		free(s);
		return err;
	}
	if (!connecting && !s->handshaking) {
		s->up = 1;
		kick(s);
	}
	*sp = s;
	return 0;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	/* What is queued (a CLOSE frame, say) still goes out, as far as the socket takes it. */
	if (writable(s) && s->qlen)
		(void)flush(s);
	if (!s->dead)
		evloop_fd_del(s->loop, s->fd);
	evloop_timer_cancel(s->loop, s->kick);
	evloop_timer_cancel(s->loop, s->flusht);
	if (s->ssl) {
		if (s->up && !s->dead)
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	close(s->fd);
	free(s->q);
	free(s);
}

static int flush(struct stream *s)
{
	while (s->qlen) {
		ssize_t n;
		s->write_wants_read = 0;
		if (s->ssl) {
			int rc, e;
			char m[160];
			ERR_clear_error();
			rc = SSL_write(s->ssl, s->q + s->qoff,
			               (int)(s->qlen > (1u << 30) ? (1u << 30) : s->qlen));
			if (rc <= 0) {
				e = SSL_get_error(s->ssl, rc);
				if (e == SSL_ERROR_WANT_WRITE)
					return 0;
				if (e == SSL_ERROR_WANT_READ) {
					s->write_wants_read = 1;
					return 0;
				}
				die(s, EPIPE, "TLS write: %s", tls_errstr(s->ssl, m, sizeof(m)));
				return -1;
			}
			n = rc;
		} else {
			n = send(s->fd, s->q + s->qoff, s->qlen, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				die(s, errno, "send: %s", strerror(errno));
				return -1;
			}
		}
		s->qoff += (size_t)n;
		s->qlen -= (size_t)n;
	}
	s->qoff = 0;
	return 1;
}

static int enqueue(struct stream *s, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t need = alen + blen;

	if (s->qlen + need > s->max_queue) {
		s->was_full = 1;
		return ENOBUFS;
	}
	if (s->qoff + s->qlen + need > s->qcap) {
		if (s->qoff) {
			memmove(s->q, s->q + s->qoff, s->qlen);
			s->qoff = 0;
		}
		if (s->qlen + need > s->qcap) {
			size_t nc = s->qcap ? s->qcap : 16384;
			uint8_t *nq;
			while (nc < s->qlen + need)
				nc *= 2;
			nq = realloc(s->q, nc);
			if (!nq)
				return ENOMEM;
			s->q = nq;
			s->qcap = nc;
		}
	}
	if (s->qlen + need > s->max_queue / 2)
		s->was_full = 1; /* a DRAINED event follows when it falls to a quarter */
	memcpy(s->q + s->qoff + s->qlen, a, alen);
	if (blen)
		memcpy(s->q + s->qoff + s->qlen + alen, b, blen);
	s->qlen += need;
	return 0;
}

int stream_write2(struct stream *s, const void *a, size_t alen, const void *b, size_t blen)
{
	int err;

	if (!s || s->dead)
		return EPIPE;
	err = enqueue(s, a, alen, b, blen);
	if (err)
		return err;
	/* Written at the end of this loop iteration (timers run after the descriptors): what
	 * the other handlers of the iteration queue goes out with it, in one TLS record and one
	 * send, instead of one each. A failure comes as STREAM_ERROR from the loop. */
	if (writable(s) && s->qlen == alen + blen && !s->flusht) {
		s->flusht = evloop_timer_add(s->loop, 0, on_flush, s);
		if (s->flusht)
			return 0;
		if (flush(s) < 0)
			return 0; /* STREAM_ERROR follows from the loop; the caller learns from it */
	}
	update(s);
	return 0;
}

int stream_write(struct stream *s, const void *buf, size_t len)
{
	return stream_write2(s, buf, len, NULL, 0);
}

ssize_t stream_read(struct stream *s, void *buf, size_t len)
{
	ssize_t n;

	if (s->dead)
		return STREAM_FAIL;
	if (s->ssl) {
		int rc, e;
		char m[160];
		ERR_clear_error();
		s->read_wants_write = 0;
		rc = SSL_read(s->ssl, buf, (int)(len > (1u << 30) ? (1u << 30) : len));
		if (rc > 0)
			return rc;
		e = SSL_get_error(s->ssl, rc);
		if (e == SSL_ERROR_WANT_READ)
			return STREAM_AGAIN;
		if (e == SSL_ERROR_WANT_WRITE) {
			s->read_wants_write = 1;
			update(s);
			return STREAM_AGAIN;
		}
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
			return 0;
		snprintf(s->err, sizeof(s->err), "TLS read: %s", tls_errstr(s->ssl, m, sizeof(m)));
		return STREAM_FAIL;
	}
	n = recv(s->fd, buf, len, 0);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return STREAM_AGAIN;
	snprintf(s->err, sizeof(s->err), "recv: %s", strerror(errno));
	return STREAM_FAIL;
}

static void do_handshake(struct stream *s)
{
	int rc, e;
	char m[200];

	ERR_clear_error();
	rc = SSL_do_handshake(s->ssl);
	if (rc == 1) {
		s->handshaking = 0;
		s->read_wants_write = 0;
		s->up = 2;
		update(s);
		s->eh(s, STREAM_UP, 0, NULL, s->arg);
		return;
	}
	e = SSL_get_error(s->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		s->read_wants_write = e == SSL_ERROR_WANT_WRITE;
		update(s);
		return;
	}
	die(s, EPROTO, "TLS handshake: %s", tls_errstr(s->ssl, m, sizeof(m)));
}

static void on_fd(int fd, uint32_t events, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	if (s->connecting) {
		int rc = sock_connect_result(s->fd);
		if (rc) {
			die(s, rc, "connect: %s", strerror(rc));
			return;
		}
		s->connecting = 0;
		if (s->ssl) {
			s->handshaking = 1;
			do_handshake(s);
			return;
		}
		s->up = 2;
		update(s);
		s->eh(s, STREAM_UP, 0, NULL, s->arg);
		return;
	}
	if (s->handshaking) {
		do_handshake(s);
		return;
	}
	if ((events & EPOLLOUT) || (s->write_wants_read && (events & EPOLLIN))) {
		size_t before = s->qlen;
		if (flush(s) < 0)
			return;
		if (before && (s->qlen == 0 || (s->was_full && s->qlen <= s->max_queue / 4))) {
			s->was_full = 0;
			update(s);
			s->eh(s, STREAM_DRAINED, 0, NULL, s->arg);
			return; /* s may be gone; level-triggered epoll brings us back */
		}
	}
	if (s->paused && (events & (EPOLLERR | EPOLLHUP))) {
		die(s, ECONNRESET, "connection closed");
		return;
	}
	if (!s->paused &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR) ||
	     (s->read_wants_write && (events & EPOLLOUT))))
		s->rh(s, s->arg);
	else
		update(s);
}

size_t stream_queued(const struct stream *s)
{
	return s ? s->qlen : 0;
}

void stream_pause(struct stream *s, int paused)
{
	if (!s || s->paused == paused)
		return;
	s->paused = paused;
	update(s);
	/* TLS may hold decrypted bytes epoll cannot see */
	if (!paused && s->up == 2)
		kick(s);
}

int stream_fd(const struct stream *s)
{
	return s ? s->fd : -1;
}

const char *stream_errstr(const struct stream *s)
{
	return s ? s->err : "";
}

int stream_is_up(const struct stream *s)
{
	return s && s->up == 2;
}

void stream_set_handlers(struct stream *s, stream_readable_h *rh, stream_event_h *eh, void *arg)
{
	s->rh = rh;
	s->eh = eh;
	s->arg = arg;
}
