/* netns.h - working inside Linux network namespaces named by path (/run/netns/NAME).
 *
 * setns(CLONE_NEWNET) changes only the calling thread, so a thread may step into a namespace,
 * open a socket there (the socket stays in that namespace for its whole life) and step back.
 * Processes started inside a namespace also get /etc/netns/NAME/resolv.conf bind-mounted over
 * /etc/resolv.conf in a private mount namespace, exactly as `ip netns exec NAME` does, so name
 * lookups use the namespace's own DNS.
 */
#ifndef ONSIGHT_NETNS_H
#define ONSIGHT_NETNS_H

#include <stddef.h>
#include <sys/types.h>

/* Moves the calling thread into the namespace at path. If oldfdp is not NULL, *oldfdp gets a
 * descriptor of the previous namespace for netns_leave. Returns 0 or an errno. */
int netns_enter(const char *path, int *oldfdp) __attribute__((warn_unused_result));
/* Returns the calling thread to the namespace of oldfd (from netns_enter) and closes it. */
int netns_leave(int oldfd);

/* socket(2) created inside the namespace at path (close-on-exec); returns fd or -errno. */
int netns_socket(const char *path, int domain, int type, int protocol);

/* Runs fn(arg) in a child process inside the namespace and waits for it (at most timeout_ms,
 * then the child is killed). Returns fn's value (0..255), or -errno. */
int netns_run(const char *path, int (*fn)(void *arg), void *arg, int timeout_ms);

struct netns_spawn_opts {
	int in_fd, out_fd, err_fd; /* -1: /dev/null */
	const char *resolv_conf; /* bind-mounted over /etc/resolv.conf; NULL: derived from the
	                          * namespace name (/etc/netns/NAME/resolv.conf, if it exists);
	                          * "": none */
	int new_session; /* setsid() in the child */
};

/* Forks argv[0] (PATH search) inside the namespace at path (NULL: the caller's own). Returns 0 and *pidp, or an errno
 * (including the child's exec failure, reported back through a close-on-exec pipe). */
int netns_spawn(const char *path, char *const argv[], const struct netns_spawn_opts *o, pid_t *pidp)
        __attribute__((warn_unused_result));

/* In the current process: enters the namespace, bind-mounts its resolv.conf (as netns_spawn)
 * and execvp(argv). Returns only on failure, with an errno. */
int netns_exec(const char *path, char *const argv[]);

/* Waits for child pid to exit, at most timeout_ms (-1: no limit), through a pidfd.
 * Returns 0 (status in *statusp, may be NULL), ETIMEDOUT, or an errno. */
int netns_waitpid(pid_t pid, int *statusp, int timeout_ms);

/* The inode of the namespace at path (to find processes in it through /proc/PID/ns/net);
 * 0 if path is not a namespace. */
unsigned long long netns_inode(const char *path);

#endif
