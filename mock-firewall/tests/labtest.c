/* labtest.c - see labtest.h. */
#include "labtest.h"

#include "onsight/netns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static pid_t runner_pid;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lt_require_lab(void)
{
	char why[256];

	if (fwlab_available(why, sizeof(why)) != 0) {
		printf("SKIPPED: the lab cannot run here: %s\n", why);
		exit(LT_SKIP);
	}
}

void lt_set_runner_pid(void)
{
	runner_pid = getpid();
	atexit(lt_cleanup_own);
}

void lt_prefix(char *buf, size_t len, int n)
{
	snprintf(buf, len, "ft%dx%d", (int)(runner_pid ? runner_pid : getpid()), n);
}

void lt_cleanup_own(void)
{
	char mine[32];
	DIR *d;
	struct dirent *e;

	if (getpid() != runner_pid)
		return;
	snprintf(mine, sizeof(mine), "ft%dx", (int)runner_pid);
	d = opendir(FWLAB_STATE_DIR);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char prefix[64], err[256];
		struct fwlab *l = NULL;
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, mine, strlen(mine)) != 0 || n < 6 ||
		    strcmp(e->d_name + n - 5, ".json") != 0 || n - 5 >= sizeof(prefix))
			continue;
		memcpy(prefix, e->d_name, n - 5);
		prefix[n - 5] = '\0';
		if (fwlab_attach(&l, prefix, err, sizeof(err)) == 0) {
			fprintf(stderr, "cleanup: removing lab %s left by a failed test\n", prefix);
			fwlab_down(l);
		}
	}
	closedir(d);
}

int lt_listen(struct fwlab *l, const char *role, const char *const *specs, size_t n)
{
	char *argv[40], path[512], line[16] = {0};
	int pfd[2], rc;
	pid_t pid;
	const char *bd = getenv("ONSIGHT_BUILD_DIR");
	struct pollfd p;

	if (n > 38)
		return EINVAL;
	if (bd) {
		snprintf(path, sizeof(path), "%s/mock-firewall/fwlab-echo", bd);
	} else {
		/* Built next to the test runner. */
		ssize_t k = readlink("/proc/self/exe", path, sizeof(path) - 16);
		char *slash;

		path[k > 0 ? k : 0] = '\0';
		slash = strrchr(path, '/');
		snprintf(slash ? slash + 1 : path, 16, "fwlab-echo");
	}
	argv[0] = path;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)specs[i];
	argv[n + 1] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errno;
	rc = fwlab_spawn(l, role, argv, pfd[1], -1, &pid);
	close(pfd[1]);
	if (rc) {
		close(pfd[0]);
		return rc;
	}
	p = (struct pollfd){pfd[0], POLLIN, 0};
	rc = poll(&p, 1, 5000) == 1 && read(pfd[0], line, sizeof(line) - 1) > 0 &&
	                strncmp(line, "ready", 5) == 0
	        ? 0
	        : EIO;
	close(pfd[0]);
	return rc;
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : EINVAL;
}

/* Non-blocking connect with a deadline; returns fd or -errno. */
static int connect_to(const char *nspath, const char *addr, int port, int timeout_ms)
{
	struct sockaddr_in sin;
	int fd, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;

	if (sockaddr_of(addr, port, &sin))
		return -EINVAL;
	fd = netns_socket(nspath, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	p = (struct pollfd){fd, POLLOUT, 0};
	if (poll(&p, 1, timeout_ms) != 1) {
		close(fd);
		return -ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

int lt_tcp(const char *nspath, const char *addr, int port, int timeout_ms)
{
	int fd = connect_to(nspath, addr, port, timeout_ms);

	if (fd < 0)
		return -fd;
	close(fd);
	return 0;
}

/* Sends a datagram every interval until an answer or the deadline. */
static int udp_exchange(const char *nspath, const char *addr, int port, const void *q, size_t qlen,
                        void *ans, size_t anscap, size_t *anslen, int timeout_ms)
{
	struct sockaddr_in sin;
	long long deadline = now_ms() + timeout_ms;
	int fd, rc = ETIMEDOUT;

	if (sockaddr_of(addr, port, &sin))
		return EINVAL;
	fd = netns_socket(nspath, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -fd;
	while (now_ms() < deadline) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - now_ms();

		if (sendto(fd, q, qlen, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			rc = errno;
			break;
		}
		/* Resend every 300 ms: a lossy link gets several chances. */
		if (poll(&p, 1, (int)(left < 300 ? left : 300)) == 1) {
			ssize_t n = recv(fd, ans, anscap, 0);

			if (n >= 0) {
				*anslen = (size_t)n;
				rc = 0;
			} else {
				rc = errno;
			}
			break;
		}
	}
	close(fd);
	return rc;
}

int lt_udp(const char *nspath, const char *addr, int port, int timeout_ms)
{
	char ans[64];
	size_t n = 0;
	int rc = udp_exchange(nspath, addr, port, "fwlab-probe", 11, ans, sizeof(ans), &n,
	                      timeout_ms);

	if (rc)
		return rc;
	return n == 11 && memcmp(ans, "fwlab-probe", 11) == 0 ? 0 : EPROTO;
}

int lt_dns(const char *nspath, const char *server, const char *name, int qtype, int timeout_ms)
{
	unsigned char q[512], ans[4096];
	size_t n = 0;
	ns_msg msg;
	int qlen, rc;

	qlen = res_mkquery(ns_o_query, name, ns_c_in, qtype, NULL, 0, NULL, q, sizeof(q));
	if (qlen < 0)
		return EINVAL;
	rc = udp_exchange(nspath, server, 53, q, (size_t)qlen, ans, sizeof(ans), &n, timeout_ms);
	if (rc)
		return rc;
	if (ns_initparse(ans, (int)n, &msg) < 0)
		return EPROTO;
	if (ns_msg_getflag(msg, ns_f_rcode) != ns_r_noerror)
		return ENOENT;
	return ns_msg_count(msg, ns_s_an) > 0 ? 0 : ENOENT;
}

int lt_connect(const char *nspath, const char *paddr, int pport, const char *target, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char req[512], resp[512];
	size_t used = 0;
	int fd = connect_to(nspath, paddr, pport, timeout_ms), status = 0;

	if (fd < 0)
		return 0;
	snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return 0;
	}
	while (used < sizeof(resp) - 1 && now_ms() < deadline) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t k;

		if (poll(&p, 1, (int)(deadline - now_ms())) != 1)
			break;
		k = read(fd, resp + used, sizeof(resp) - 1 - used);
		if (k <= 0)
			break;
		used += (size_t)k;
		resp[used] = '\0';
		if (strstr(resp, "\r\n"))
			break;
	}
	resp[used] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	close(fd);
	return status;
}

long lt_bulk(const char *nspath, const char *addr, int port, size_t bytes, int timeout_ms)
{
	long long t0 = now_ms(), deadline = t0 + timeout_ms;
	static char chunk[16384];
	size_t sent = 0;
	int fd = connect_to(nspath, addr, port, timeout_ms);
	char c;

	if (fd < 0)
		return fd;
	while (sent < bytes && now_ms() < deadline) {
		struct pollfd p = {fd, POLLOUT, 0};
		size_t want = bytes - sent < sizeof(chunk) ? bytes - sent : sizeof(chunk);
		ssize_t k;

		if (poll(&p, 1, (int)(deadline - now_ms())) != 1)
			break;
		k = write(fd, chunk, want);
		if (k < 0 && errno != EAGAIN)
			break;
		sent += k > 0 ? (size_t)k : 0;
	}
	shutdown(fd, SHUT_WR);
	/* The receiver closes after reading everything: EOF here means all bytes arrived. */
	while (now_ms() < deadline) {
		struct pollfd p = {fd, POLLIN, 0};

		if (poll(&p, 1, (int)(deadline - now_ms())) != 1)
			break;
		if (read(fd, &c, 1) <= 0) {
			close(fd);
			return sent == bytes ? (long)(now_ms() - t0) : -EIO;
		}
	}
	close(fd);
	return -ETIMEDOUT;
}
