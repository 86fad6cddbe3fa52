/* capture.c - libpcap capture of one link inside a lab namespace, in a child process. */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_SNAPLEN 65535
#define CAPTURE_READY_MS 5000
#define CAPTURE_STOP_MS 5000

struct capture {
	pid_t pid;
	int status_fd; /* reads the packet count the child reports at exit */
	char name[32];
	char path[4096];
};

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* The interface holding addr in the current namespace, into out. */
static int iface_by_addr(const char *addr, char *out, size_t len)
{
	struct ifaddrs *ifa = NULL, *i;
	struct in_addr want;
	int e = ENODEV;

	if (inet_pton(AF_INET, addr, &want) != 1)
		return EINVAL;
	if (getifaddrs(&ifa))
		return errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr == want.s_addr) {
			snprintf(out, len, "%s", i->ifa_name);
			e = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return e;
}

static void report(int fd, const char *fmt, const char *a, const char *b)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), fmt, a, b);
	if (fd >= 0 && n > 0 && write(fd, msg, (size_t)n) < 0)
		return;
}

static pcap_t *open_live(const char *iface, char *errbuf)
{
	pcap_t *p = pcap_create(iface, errbuf);

	if (!p)
		return NULL;
	if (pcap_set_snaplen(p, CAPTURE_SNAPLEN) || pcap_set_immediate_mode(p, 1) ||
	    pcap_set_buffer_size(p, 4 << 20) || pcap_set_timeout(p, 100) || pcap_activate(p) < 0 ||
	    /* Non-blocking: our poll() waits, so SIGTERM (EINTR) always ends the loop; libpcap's
	     * own wait would retry through the signal. */
	    pcap_setnonblock(p, 1, errbuf) < 0) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	return p;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	pcap_dump(user, h, bytes);
}

int capture_run(const char *netns_path, const char *iface, const char *pcap_path, int ready_fd,
                volatile int *stop)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "", ifname[IF_NAMESIZE + 1];
	pcap_t *p = NULL;
	pcap_dumper_t *d = NULL;
	long packets = 0;
	int ns = -1, rc = 1;

	ns = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET)) {
		report(ready_fd, "ERR enter %s: %s\n", netns_path, strerror(errno));
		goto out;
	}
	if (!strncmp(iface, "addr:", 5)) {
		int e = iface_by_addr(iface + 5, ifname, sizeof(ifname));
		if (e) {
			report(ready_fd, "ERR no interface holds %s: %s\n", iface + 5, strerror(e));
			goto out;
		}
	} else {
		snprintf(ifname, sizeof(ifname), "%s", iface);
	}
	p = open_live(ifname, errbuf);
	if (!p) {
		report(ready_fd, "ERR pcap %s: %s\n", ifname, errbuf);
		goto out;
	}
	d = pcap_dump_open(p, pcap_path);
	if (!d) {
		report(ready_fd, "ERR %s: %s\n", pcap_path, pcap_geterr(p));
		goto out;
	}
	report(ready_fd, "OK %s%s\n", ifname, "");
	while (!*stop) {
		struct pollfd pfd = {.fd = pcap_get_selectable_fd(p), .events = POLLIN};
		/* poll wakes on packets or on SIGTERM (EINTR); the timeout only bounds the wait
		 * when the interface is down (re-plugged by a migration). */
		if (pfd.fd >= 0 && poll(&pfd, 1, 200) < 0 && errno != EINTR)
			break;
		int n = pcap_dispatch(p, -1, on_packet, (u_char *)d);
		if (n > 0) {
			packets += n;
		} else if (n == PCAP_ERROR) {
			/* The link went down under us (migrate): reopen on the same interface,
			 * keep writing into the same file (same link type). */
			pcap_t *np = open_live(ifname, errbuf);
			if (np) {
				pcap_close(p);
				p = np;
			}
		}
	}
	/* Drain what the kernel still holds. */
	for (int i = 0; i < 16; i++) {
		int n = pcap_dispatch(p, -1, on_packet, (u_char *)d);
		if (n <= 0)
			break;
		packets += n;
	}
	rc = 0;
out:
	if (d) {
		pcap_dump_flush(d);
		pcap_dump_close(d);
	}
	if (p)
		pcap_close(p);
	if (ns >= 0)
		close(ns);
	if (!rc && ready_fd >= 0) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "END %ld\n", packets);
		if (write(ready_fd, msg, (size_t)n) < 0)
			rc = 1;
	}
	return rc;
}

/* Reads one line from fd within ms; returns its length, 0 on EOF/timeout. */
static size_t read_line(int fd, char *buf, size_t len, int ms)
{
	size_t used = 0;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (used + 1 < len) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = ms -
		        ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0)
			break;
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(fd, buf + used, 1);
		if (n <= 0)
			break;
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	return used;
}

int capture_start(struct capture **cp, const char *name, const char *netns_path, const char *iface,
                  const char *pcap_path, char *err, size_t errlen)
{
	struct capture *c = NULL;
	int pfd[2] = {-1, -1}, e = 0;
	char line[512];

	if (!cp || !netns_path || !iface || !pcap_path)
		return EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->status_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s", pcap_path);
	if (pipe2(pfd, O_CLOEXEC)) {
		e = errno;
		goto out;
	}
	c->pid = fork();
	if (c->pid < 0) {
		e = errno;
		goto out;
	}
	if (c->pid == 0) {
		struct sigaction sa = {.sa_handler = on_term};
		close(pfd[0]);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		_exit(capture_run(netns_path, iface, pcap_path, pfd[1],
		                  (volatile int *)&stop_flag));
	}
	close(pfd[1]);
	pfd[1] = -1;
	c->status_fd = pfd[0];
	pfd[0] = -1;
	read_line(c->status_fd, line, sizeof(line), CAPTURE_READY_MS);
	if (strncmp(line, "OK ", 3)) {
		snprintf(err, errlen, "capture %s: %s", name,
		         *line ? line + (strncmp(line, "ERR ", 4) ? 0 : 4) : "not ready in time");
		e = EIO;
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
		goto out;
	}
	*cp = c;
	c = NULL;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (c) {
		if (c->status_fd >= 0)
			close(c->status_fd);
		free(c);
	}
	return e;
}

long capture_stop(struct capture *c, char *err, size_t errlen)
{
	char line[128];
	long packets = -1;
	int status = 0;

	if (!c)
		return 0;
	kill(c->pid, SIGTERM);
	read_line(c->status_fd, line, sizeof(line), CAPTURE_STOP_MS);
	if (!strncmp(line, "END ", 4))
		packets = strtol(line + 4, NULL, 10);
	else
		kill(c->pid, SIGKILL);
	if (waitpid(c->pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		packets = -1;
	if (packets < 0 && err)
		snprintf(err, errlen, "capture %s did not finish cleanly", c->name);
	close(c->status_fd);
	free(c);
	return packets;
}

pid_t capture_pid(const struct capture *c)
{
	return c->pid;
}
const char *capture_name(const struct capture *c)
{
	return c->name;
}
const char *capture_path(const struct capture *c)
{
	return c->path;
}
