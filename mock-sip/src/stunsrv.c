/* stunsrv.c - STUN Binding responses with optional short-term integrity. */
#define LOG_TAG "stun"
#include "stunsrv.h"
#include "onsight/log.h"
#include "onsight/stun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static stunsrv_key_h *key_h;
static void *key_arg;

struct stunsrv {
	struct evloop *loop;
	struct journal *j;
	int fd;
	uint16_t port;
};

void stunsrv_set_keys(stunsrv_key_h *h, void *arg)
{
	key_h = h;
	key_arg = arg;
}

/* The key for a request with MESSAGE-INTEGRITY, or NULL (answered with 401). */
static const char *integrity_key(const struct stun_msg *m, const uint8_t *buf, size_t n)
{
	char user[514];
	const char *pw;

	if (!m->username.p || m->username.len >= sizeof(user) || !key_h)
		return NULL;
	memcpy(user, m->username.p, m->username.len);
	user[m->username.len] = '\0';
	/* ICE usernames are "remote:local": the part before ':' is ours (RFC 8445 §7.2.2). */
	user[strcspn(user, ":")] = '\0';
	pw = key_h(key_arg, user);
	if (!pw || stun_check_integrity(m, buf, n, (const uint8_t *)pw, strlen(pw)) != 0)
		return NULL;
	return pw;
}

int stunsrv_answer(struct journal *j, int fd, const uint8_t *buf, size_t n,
                   const struct sock_addr *from, uint16_t port)
{
	uint8_t out[STUN_MAX_MSG];
	struct stun_msg m;
	const char *key = NULL;
	char src[SOCK_ADDR_STRLEN];
	struct sock_addr local;
	size_t len = 0;
	int err;

	if (!stun_is_message(buf, n))
		return 0;
	if (stun_decode(&m, buf, n) || m.type != STUN_BINDING_REQUEST)
		return 1; /* bad FINGERPRINT, or not a request: silently discarded (§7.3) */
	if (m.integrity_off && !(key = integrity_key(&m, buf, n)))
		err = stun_error_response(out, sizeof(out), &m, 401, "Unauthorized", &len);
	else if (m.n_unknown)
		err = stun_error_response(out, sizeof(out), &m, 420, "Unknown Attribute", &len);
	else
		err = stun_binding_response(out, sizeof(out), &m, from, (const uint8_t *)key,
		                            key ? strlen(key) : 0, m.has_fingerprint || !key, &len);
	if (err)
		return 1;
	if (sock_local(fd, &local))
		local.len = 0;
	journal_emit_at(j, &local, "stun", "{s:s, s:i, s:b}", "source",
	                sock_addr_str(from, src, sizeof(src)), "port", port, "integrity",
	                key != NULL);
	(void)sendto(fd, out, len, 0, (const struct sockaddr *)&from->ss, from->len);
	return 1;
}

void stunsrv_drain(struct journal *j, int fd, uint16_t port)
{
	uint8_t buf[STUN_MAX_MSG];
	struct sock_addr from;

	for (int i = 0; i < 64; i++) {
		ssize_t r;
		from.len = sizeof(from.ss);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &from.len);
		if (r < 0)
			return;
		(void)stunsrv_answer(j, fd, buf, (size_t)r, &from, port);
	}
}

static void stunsrv_event(int fd, uint32_t events, void *arg)
{
	struct stunsrv *s = arg;

	(void)events;
	stunsrv_drain(s->j, fd, s->port);
}

int stunsrv_open(struct stunsrv **sp, struct evloop *loop, struct journal *j,
                 const struct sock_addr *addr)
{
	struct stunsrv *s = calloc(1, sizeof(*s));
	struct sock_addr b;
	int err;

	if (!s)
		return ENOMEM;
	s->loop = loop;
	s->j = j;
	s->fd = sock_bind_udp(addr);
	if (s->fd < 0) {
		err = -s->fd;
		free(s);
		return err;
	}
	err = sock_local(s->fd, &b);
	if (!err)
		err = evloop_fd_add(loop, s->fd, EPOLLIN, stunsrv_event, s);
	if (err) {
		close(s->fd);
		free(s);
		return err;
	}
	s->port = sock_addr_port(&b);
	*sp = s;
	return 0;
}

void stunsrv_close(struct stunsrv *s)
{
	if (!s)
		return;
	evloop_fd_del(s->loop, s->fd);
	close(s->fd);
	free(s);
}

uint16_t stunsrv_port(const struct stunsrv *s)
{
	return s->port;
}
