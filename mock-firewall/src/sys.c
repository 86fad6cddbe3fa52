/* sys.c - see sys.h. */
#define LOG_TAG "fwlab"
#include "sys.h"

#include "onsight/log.h"
#include "onsight/netns.h"
#include "onsight/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sys_run(const char *nspath, char *const argv[], const char *input, char *out, size_t outlen,
            int timeout_ms)
{
	int in[2] = {-1, -1}, op[2] = {-1, -1}, rc, status = 0;
	struct netns_spawn_opts o = {-1, -1, -1, "", 0};
	size_t used = 0;
	long long deadline = now_ms() + timeout_ms;
	pid_t pid = -1;
	char buf[1024];

	if (out && outlen)
		out[0] = '\0';
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	o.in_fd = in[0];
	o.out_fd = op[1];
	o.err_fd = op[1];
	rc = netns_spawn(nspath, argv, &o, &pid);
	if (rc) {
		rc = -rc;
		goto out;
	}
	close(in[0]);
	close(op[1]);
	in[0] = op[1] = -1;
	/* Inputs are small batches (well under the 64 KiB pipe buffer). */
	if (input && write(in[1], input, strlen(input)) < 0)
		log_warn("%s: writing input", argv[0]);
	close(in[1]);
	in[1] = -1;
	for (;;) {
		struct pollfd p = {op[0], POLLIN, 0};
		long long left = deadline - now_ms();
		ssize_t n;

		int k;

		if (left <= 0)
			break;
		/* The caller may have a SIGCHLD handler (the conformance runner does). */
		k = poll(&p, 1, (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n = read(op[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out && outlen > 1 && used < outlen - 1) {
			size_t k = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;

			memcpy(out + used, buf, k);
			used += k;
			out[used] = '\0';
		}
	}
	{
		long long left = deadline - now_ms();

		rc = netns_waitpid(pid, &status, left > 0 ? (int)left : 0);
	}
	if (rc == ETIMEDOUT) {
		kill(pid, SIGKILL);
		(void)netns_waitpid(pid, NULL, -1);
		rc = -ETIMEDOUT;
		goto out;
	}
	if (rc) {
		rc = -rc;
		goto out;
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	return rc;
}

static int read_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	int fd;
	ssize_t n;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return EIO;
	buf[n] = '\0';
	/* The command name may contain ')' and spaces: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return EIO;
	p += 2;
	*state = *p;
	/* p is field 3 (state); start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return EIO;
		p++;
	}
	v = strtoull(p, NULL, 10);
	*start = v;
	return 0;
}

unsigned long long sys_proc_start(pid_t pid)
{
	char st = 0;
	unsigned long long start = 0;

	if (pid <= 0 || read_stat(pid, &st, &start) != 0)
		return 0;
	return start;
}

int sys_proc_alive(pid_t pid, unsigned long long start)
{
	char st = 0;
	unsigned long long s = 0;

	if (pid <= 0 || read_stat(pid, &st, &s) != 0)
		return 0;
	if (st == 'Z' || st == 'X')
		return 0;
	return start == 0 || s == start;
}

size_t sys_procs_in_netns(const unsigned long long *inodes, size_t ninodes, pid_t *pids, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;
	pid_t self = getpid();

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < cap) {
		char path[64], link[64];
		unsigned long long ino;
		ssize_t k;
		pid_t pid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(e->d_name);
		if (pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (sscanf(link, "net:[%llu]", &ino) != 1)
			continue;
		for (size_t i = 0; i < ninodes; i++)
			if (inodes[i] && inodes[i] == ino) {
				pids[n++] = pid;
				break;
			}
	}
	closedir(d);
	return n;
}

/* Waits until every pid has exited or deadline; returns how many are left. */
static size_t wait_gone(const pid_t *pids, int *fds, size_t n, int ms)
{
	long long deadline = now_ms() + ms;
	size_t left;

	for (;;) {
		struct pollfd p[256];
		size_t np = 0;

		left = 0;
		for (size_t i = 0; i < n; i++) {
			if (fds[i] < 0)
				continue;
			/* Our own children stay zombies until reaped; reap so they count as gone. */
			while (waitpid(pids[i], NULL, WNOHANG) < 0 && errno == EINTR)
				;
			if (!sys_proc_alive(pids[i], 0)) {
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			left++;
			if (np < ARRAY_SIZE(p))
				p[np++] = (struct pollfd){fds[i], POLLIN, 0};
		}
		if (left == 0)
			return 0;
		long long rem = deadline - now_ms();
		if (rem <= 0)
			return left;
		/* pidfds turn readable when their process exits. */
		if (poll(p, np, (int)rem) < 0 && errno != EINTR)
			return left;
	}
}

size_t sys_stop(const pid_t *pids, size_t n, int grace_ms)
{
	int fds[256];
	size_t left;

	if (n > ARRAY_SIZE(fds))
		n = ARRAY_SIZE(fds);
	for (size_t i = 0; i < n; i++) {
		fds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (fds[i] >= 0)
			syscall(SYS_pidfd_send_signal, fds[i], SIGTERM, NULL, 0);
	}
	left = wait_gone(pids, fds, n, grace_ms);
	if (left) {
		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0)
				syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, NULL, 0);
		left = wait_gone(pids, fds, n, 2000);
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return left;
}

int sys_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text), off = 0;
	int err = 0;

	if (fd < 0)
		return errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && !err)
		err = errno;
	return err;
}

int sys_rmdir_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return errno == ENOENT ? 0 : errno;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return errno;
	return 0;
}

int sys_mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (str_copy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
		return ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return errno;
	return 0;
}

int sys_sysctl(const char *nspath, const char *key, const char *value)
{
	char path[256];
	int old = -1, err, fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	err = netns_enter(nspath, &old);
	if (err)
		return err;
	/* /proc/sys/net resolves to the opening thread's namespace. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		err = errno;
	else if (write(fd, value, strlen(value)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (netns_leave(old) != 0) {
		log_errx("cannot return to the original network namespace");
		abort();
	}
	return err;
}
