/* fakesrv.c - scripted HTTPS/TCP servers and the endpoint child for tests. */
#include "fakesrv.h"

#include "onsight/evloop.h"
#include "onsight/sock.h"
#include "onsight/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int listen_any(unsigned *port)
{
	struct sock_addr sa, bound;
	int fd;

	if (sock_addr_parse(&sa, "127.0.0.1:0", 0))
		return -1;
	fd = sock_listen_tcp(&sa, 16);
	if (fd < 0 || sock_local(fd, &bound))
		return -1;
	*port = sock_addr_port(&bound);
	return fd;
}

static void child_setup(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
}

static int block(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static void serve_https(int lfd, SSL_CTX *ctx, const struct fake_route *routes)
{
	for (int n = 0; n < 1000; n++) {
		char req[8192];
		size_t have = 0;
		const char *resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		                   "Connection: close\r\n\r\n";
		int cfd = accept(lfd, NULL, NULL);
		SSL *ssl;

		if (cfd < 0)
			continue;
		block(cfd);
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, cfd);
		if (SSL_accept(ssl) == 1) {
			while (have < sizeof(req) - 1) {
				int r = SSL_read(ssl, req + have, (int)(sizeof(req) - 1 - have));

				if (r <= 0)
					break;
				have += (size_t)r;
				req[have] = '\0';
				if (strstr(req, "\r\n\r\n"))
					break;
			}
			req[have] = '\0';
			for (const struct fake_route *r = routes; r && r->path_prefix; r++) {
				const char *sp = strchr(req, ' ');

				if (sp &&
				    strncmp(sp + 1, r->path_prefix, strlen(r->path_prefix)) == 0) {
					resp = r->response;
					break;
				}
			}
			SSL_write(ssl, resp, (int)strlen(resp));
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(cfd);
	}
}

int fake_https(struct fakesrv *s, const char *cert, const char *key,
               const struct fake_route *routes)
{
	SSL_CTX *ctx = NULL;
	int lfd = listen_any(&s->port);

	if (lfd < 0 || tls_server_ctx(&ctx, cert, key, NULL))
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		child_setup();
		block(lfd);
		serve_https(lfd, ctx, routes);
		_exit(0);
	}
	SSL_CTX_free(ctx);
	close(lfd);
	return s->pid > 0 ? 0 : -1;
}

int fake_tcp(struct fakesrv *s, const char *reply, size_t len, int close_after)
{
	int lfd = listen_any(&s->port);

	if (lfd < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		child_setup();
		block(lfd);
		for (int n = 0; n < 1000; n++) {
			char buf[4096];
			int cfd = accept(lfd, NULL, NULL);

			if (cfd < 0)
				continue;
			block(cfd);
			if (read(cfd, buf, sizeof(buf)) > 0 && reply)
				(void)!write(cfd, reply, len);
			if (!close_after)
				while (read(cfd, buf, sizeof(buf)) > 0)
					;
			close(cfd);
		}
		_exit(0);
	}
	close(lfd);
	return s->pid > 0 ? 0 : -1;
}

void fake_stop(struct fakesrv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

int ep_spawn(struct epchild *e, char *const argv[])
{
	int p[2];

	memset(e, 0, sizeof(e[0]));
	if (pipe2(p, O_CLOEXEC))
		return -1;
	e->pid = fork();
	if (e->pid == 0) {
		dup2(p[1], 1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	e->fd = p[0];
	return e->pid > 0 ? 0 : -1;
}

void ep_mark(struct epchild *e)
{
	e->from = e->len;
}

static int has_line(const struct epchild *e, const char *const *needles)
{
	const char *line = e->text ? e->text + e->from : NULL;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		int all = 1;

		for (int i = 0; needles[i]; i++) {
			const char *hit = memmem(line, n, needles[i], strlen(needles[i]));

			if (!hit)
				all = 0;
		}
		if (all)
			return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int ep_wait(struct epchild *e, unsigned timeout_ms, const char *const *needles)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;

	while (!has_line(e, needles)) {
		struct pollfd p = {.fd = e->fd, .events = POLLIN};
		uint64_t now = evloop_now_ms();
		ssize_t n;

		if (now >= deadline || e->fd < 0)
			return 0;
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			return 0;
		if (e->len + 4096 + 1 > e->cap) {
			size_t cap = e->cap ? e->cap * 2 : 65536;
			char *t = realloc(e->text, cap);

			if (!t)
				return 0;
			e->text = t;
			e->cap = cap;
		}
		n = read(e->fd, e->text + e->len, 4096);
		if (n <= 0) {
			close(e->fd);
			e->fd = -1;
			return has_line(e, needles);
		}
		e->len += (size_t)n;
		e->text[e->len] = '\0';
	}
	return 1;
}

int ep_count(const struct epchild *e, const char *needle)
{
	int n = 0;
	const char *p = e->text;

	while (p && (p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

int ep_finish(struct epchild *e, unsigned timeout_ms)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;
	int st = 0;

	for (;;) {
		pid_t r = waitpid(e->pid, &st, WNOHANG);
		static const char *const none[] = {"\x01never\x01", NULL};

		if (r == e->pid)
			break;
		if (evloop_now_ms() >= deadline) {
			kill(e->pid, SIGKILL);
			waitpid(e->pid, &st, 0);
			st = -1;
			break;
		}
		/* Drain stdout while waiting (also the wait's pacing: bounded by the deadline). */
		if (e->fd >= 0)
			ep_wait(e, 50, none);
		else
			poll(NULL, 0, 20);
	}
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	return st < 0 ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}
