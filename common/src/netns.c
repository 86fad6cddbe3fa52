/* netns.c - entering network namespaces, sockets and processes inside them. */
#define LOG_TAG "netns"
#include "onsight/netns.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int netns_enter(const char *path, int *oldfdp)
{
	int fd = -1, old = -1, err = 0;

	if (!path)
		return EINVAL;
	if (oldfdp) {
		old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (old < 0)
			return errno;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		err = errno;
		goto out;
	}
	if (oldfdp) {
		*oldfdp = old;
		old = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	if (old >= 0)
		close(old);
	return err;
}

int netns_leave(int oldfd)
{
	int err = 0;

	if (oldfd < 0)
		return EINVAL;
	if (setns(oldfd, CLONE_NEWNET) < 0)
		err = errno;
	close(oldfd);
	return err;
}

int netns_socket(const char *path, int domain, int type, int protocol)
{
	int old = -1, fd, err;

	err = netns_enter(path, &old);
	if (err)
		return -err;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		fd = -errno;
	err = netns_leave(old);
	if (err) {
		/* The thread is stranded in the wrong namespace: nothing sane can continue. */
		log_errx("cannot return to the original network namespace: %s", strerror(err));
		abort();
	}
	return fd;
}

/* "/run/netns/NAME" -> "/etc/netns/NAME/resolv.conf" */
static void resolv_for(const char *path, char *buf, size_t len)
{
	const char *name = strrchr(path, '/');

	snprintf(buf, len, "/etc/netns/%s/resolv.conf", name ? name + 1 : path);
}

/* In a child: private mount namespace, the namespace's resolv.conf over /etc/resolv.conf. */
static int bind_resolv(const char *path, const char *resolv)
{
	char def[PATH_MAX];

	if (!path || (resolv && !*resolv))
		return 0;
	if (!resolv) {
		resolv_for(path, def, sizeof(def));
		resolv = def;
	}
	if (access(resolv, R_OK) != 0)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return errno;
	/* Keep the bind mount ours: without this it would propagate back to the host. */
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return errno;
	if (mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return errno;
	return 0;
}

int netns_exec(const char *path, char *const argv[])
{
	int err;

	if (!path || !argv || !argv[0])
		return EINVAL;
	err = netns_enter(path, NULL);
	if (err)
		return err;
	err = bind_resolv(path, NULL);
	if (err)
		return err;
	execvp(argv[0], argv);
	return errno;
}

static void child_fd(int want, int target, int flags)
{
	if (want < 0)
		want = open("/dev/null", flags);
	if (want >= 0 && want != target)
		dup2(want, target);
}

int netns_spawn(const char *path, char *const argv[], const struct netns_spawn_opts *o, pid_t *pidp)
{
	struct netns_spawn_opts def = {-1, -1, -1, NULL, 0};
	int pfd[2] = {-1, -1}, err = 0, cerr = 0;
	pid_t pid;
	ssize_t n;

	if (!argv || !argv[0] || !pidp)
		return EINVAL;
	if (!o)
		o = &def;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		goto out;
	}
	if (pid == 0) {
		sigset_t all;

		/* Signals blocked by the parent's event loop (signalfd) must not stay blocked. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		close(pfd[0]);
		child_fd(o->in_fd, 0, O_RDONLY);
		child_fd(o->out_fd, 1, O_WRONLY);
		child_fd(o->err_fd, 2, O_WRONLY);
		/* Nothing else of the caller's leaks into a long-lived service (a pipe kept open
		 * by a daemon would hide the caller's EOF forever). CLOEXEC rather than close: the
		 * error pipe must live until exec. */
		syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
		if (o->new_session)
			setsid();
		cerr = path ? netns_enter(path, NULL) : 0;
		if (!cerr)
			cerr = bind_resolv(path, o->resolv_conf);
		if (!cerr) {
			execvp(argv[0], argv);
			cerr = errno;
		}
		(void)!write(pfd[1], &cerr, sizeof(cerr));
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	do
		n = read(pfd[0], &cerr, sizeof(cerr));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(cerr)) {
		/* exec failed: the child is exiting; reap it. */
		waitpid(pid, NULL, 0);
		err = cerr ? cerr : ECHILD;
		goto out;
	}
	*pidp = pid;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return err;
}

int netns_waitpid(pid_t pid, int *statusp, int timeout_ms)
{
	int pfd, status = 0, err = 0;
	pid_t r;

	/* A pidfd becomes readable when the child exits: no polling loop, no signal handler. */
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {pfd, POLLIN, 0};
		int n;

		do
			n = poll(&p, 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		close(pfd);
		if (n == 0)
			return ETIMEDOUT;
	}
	do
		r = waitpid(pid, &status, pfd >= 0 ? WNOHANG : 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		err = errno;
	else if (r == 0)
		err = ETIMEDOUT;
	else if (statusp)
		*statusp = status;
	return err;
}

int netns_run(const char *path, int (*fn)(void *arg), void *arg, int timeout_ms)
{
	pid_t pid;
	int status = 0, err;

	if (!path || !fn)
		return -EINVAL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		err = netns_enter(path, NULL);
		_exit(err ? 255 : (fn(arg) & 0xff));
	}
	err = netns_waitpid(pid, &status, timeout_ms);
	if (err == ETIMEDOUT) {
		kill(pid, SIGKILL);
		err = netns_waitpid(pid, &status, -1);
		return -ETIMEDOUT;
	}
	if (err)
		return -err;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -ECHILD;
}

unsigned long long netns_inode(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) < 0)
		return 0;
	return (unsigned long long)st.st_ino;
}
