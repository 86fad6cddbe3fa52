/* control.c - line commands over a unix socket. */
#define LOG_TAG "control"
#include "control.h"
#include "onsight/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct cclient {
	struct control *ctl;
	int fd;
	char buf[CONTROL_MAX_LINE];
	size_t len;
};

struct control {
	struct evloop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct peer *peer;
	struct proxy *proxy;
	struct registrar *reg;
	struct cclient *cl[CONTROL_MAX_CLIENTS];
};

static void client_close(struct cclient *c)
{
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->ctl->cl[i] == c)
			c->ctl->cl[i] = NULL;
	evloop_fd_del(c->ctl->loop, c->fd);
	close(c->fd);
	free(c);
}

static json_t *cmd_call(struct control *ctl, char *args)
{
	char *user = strtok(args, " \t"), *secs = strtok(NULL, " \t"), call_id[256];
	struct binding_view b;
	int err;

	if (!user)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "usage: call USER [SECONDS]");
	if (!ctl->peer)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "the peer is off");
	if (registrar_lookup(ctl->reg, user, &b) != 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "user not registered");
	err = peer_call(ctl->peer, user, secs ? (unsigned)strtoul(secs, NULL, 10) : 0, call_id,
	                sizeof(call_id));
	if (err)
		return json_pack("{s:b, s:s}", "ok", 0, "error", strerror(err));
	return json_pack("{s:b, s:s}", "ok", 1, "call_id", call_id);
}

static json_t *run(struct control *ctl, char *line)
{
	char *cmd = strtok(line, " \t"), *rest = strtok(NULL, "");
	json_t *o;

	if (!cmd)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "empty command");
	if (strcmp(cmd, "call") == 0)
		return cmd_call(ctl, rest ? rest : (char *)"");
	if (strcmp(cmd, "hangup") == 0) {
		char *id = rest ? strtok(rest, " \t") : NULL;
		return json_pack("{s:b, s:i}", "ok", 1, "hung_up",
		                 ctl->peer ? peer_hangup(ctl->peer, id) : 0);
	}
	if (strcmp(cmd, "status") == 0) {
		o = json_pack("{s:b}", "ok", 1);
		proxy_status(ctl->proxy, o);
		if (ctl->peer)
			peer_status(ctl->peer, o);
		return o;
	}
	return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command (call, hangup, status)");
}

static int answer(struct cclient *c, char *line)
{
	json_t *o = run(c->ctl, line);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL, *ln = NULL;
	int err = 0;

	json_decref(o);
	if (!s || asprintf(&ln, "%s\n", s) < 0) {
		free(s);
		return ENOMEM;
	}
	if (write(c->fd, ln, strlen(ln)) < 0)
		err = errno;
	free(s);
	free(ln);
	return err;
}

static void client_event(int fd, uint32_t events, void *arg)
{
	struct cclient *c = arg;
	ssize_t r;
	char *nl;

	(void)events;
	r = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (r <= 0)
		return client_close(c);
	c->len += (size_t)r;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n')) != NULL) {
		size_t used = (size_t)(nl - c->buf) + 1;
		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		if (answer(c, c->buf))
			return client_close(c);
		memmove(c->buf, c->buf + used, c->len - used + 1);
		c->len -= used;
	}
	if (c->len >= sizeof(c->buf) - 1)
		client_close(c); /* a line longer than the cap */
}

static void accept_event(int fd, uint32_t events, void *arg)
{
	struct control *ctl = arg;
	struct cclient *c;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	size_t i;

	(void)events;
	if (cfd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS && ctl->cl[i]; i++)
		;
	c = i < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c || evloop_fd_add(ctl->loop, cfd, EPOLLIN, client_event, c)) {
		free(c);
		close(cfd);
		return;
	}
	c->ctl = ctl;
	c->fd = cfd;
	ctl->cl[i] = c;
}

int control_open(struct control **cp, struct evloop *loop, const char *path, struct peer *peer,
                 struct proxy *proxy, struct registrar *reg)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct control *ctl;
	int err;

	if (!cp || !path || strlen(path) >= sizeof(sun.sun_path))
		return EINVAL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return ENOMEM;
	ctl->loop = loop;
	ctl->peer = peer;
	ctl->proxy = proxy;
	ctl->reg = reg;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0 || bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(ctl->fd, 8) < 0) {
		err = errno;
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return err;
	}
	err = evloop_fd_add(loop, ctl->fd, EPOLLIN, accept_event, ctl);
	if (err) {
		close(ctl->fd);
		unlink(path);
		free(ctl);
		return err;
	}
	*cp = ctl;
	return 0;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->cl[i])
			client_close(ctl->cl[i]);
	evloop_fd_del(ctl->loop, ctl->fd);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
}
