/* test_netns.c - entering namespaces, sockets and processes inside them. Needs root (makes
 * a throwaway namespace with `ip netns add`); elsewhere exits 77 = SKIPPED. */
#include "onsight/netns.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char name[64], path[128], etcdir[160];

static void make_ns(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip netns add %s", name);
	ck_assert_int_eq(system(cmd), 0);
	mkdir("/etc/netns", 0755);
	ck_assert_int_eq(mkdir(etcdir, 0755), 0);
	free(tu_write(etcdir, "resolv.conf", "nameserver 192.0.2.53\n"));
}

static void drop_ns(void)
{
	char cmd[256], f[200];

	snprintf(f, sizeof(f), "%s/resolv.conf", etcdir);
	unlink(f);
	rmdir(etcdir);
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", name);
	(void)!system(cmd);
}

START_TEST(test_socket_is_made_inside_and_thread_returns)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
	unsigned long long before, inside;
	char link[64];
	ssize_t n;
	int fd;

	make_ns();
	n = readlink("/proc/thread-self/ns/net", link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	before = netns_inode("/proc/thread-self/ns/net");
	inside = netns_inode(path);
	ck_assert_uint_ne(before, inside);
	fd = netns_socket(path, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	/* In a fresh namespace even loopback is down: nothing is reachable. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(errno, ENETUNREACH);
	close(fd);
	ck_assert_uint_eq(netns_inode("/proc/thread-self/ns/net"), before);
	ck_assert_int_eq(netns_socket("/nonexistent", AF_INET, SOCK_DGRAM, 0), -ENOENT);
	drop_ns();
}
END_TEST

static int in_ns(void *arg)
{
	return netns_inode("/proc/self/ns/net") == *(unsigned long long *)arg ? 7 : 1;
}

START_TEST(test_run_and_spawn_execute_inside_with_their_resolv_conf)
{
	unsigned long long ino;
	char *argv[] = {"cat", "/etc/resolv.conf", NULL};
	char *bad[] = {"/nonexistent/program", NULL};
	char *slow[] = {"sleep", "5", NULL};
	struct netns_spawn_opts o = {-1, -1, -1, NULL, 0};
	char buf[256] = "";
	int pfd[2], status = 0;
	pid_t pid;
	ssize_t n;

	make_ns();
	ino = netns_inode(path);
	ck_assert_int_eq(netns_run(path, in_ns, &ino, 5000), 7);
	ck_assert_int_eq(pipe(pfd), 0);
	o.out_fd = pfd[1];
	ck_assert_int_eq(netns_spawn(path, argv, &o, &pid), 0);
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf, "nameserver 192.0.2.53\n");
	ck_assert_int_eq(netns_waitpid(pid, &status, 5000), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The caller's other descriptors do not leak into the child. */
	{
		int leak[2], out[2];
		char cmd[64], res[32] = "";
		char *sh[] = {"sh", "-c", cmd, NULL};

		ck_assert_int_eq(pipe(leak), 0); /* no O_CLOEXEC on purpose */
		ck_assert_int_eq(pipe(out), 0);
		snprintf(cmd, sizeof(cmd), "[ -e /proc/self/fd/%d ] && echo leaked || echo clean",
		         leak[1]);
		o.out_fd = out[1];
		ck_assert_int_eq(netns_spawn(path, sh, &o, &pid), 0);
		close(out[1]);
		ck_assert_int_gt(read(out[0], res, sizeof(res) - 1), 0);
		ck_assert_str_eq(res, "clean\n");
		ck_assert_int_eq(netns_waitpid(pid, NULL, 5000), 0);
		close(out[0]);
		close(leak[0]);
		close(leak[1]);
	}
	/* exec failure comes back as an errno, not as a child that exits 127 later */
	ck_assert_int_eq(netns_spawn(path, bad, NULL, &pid), ENOENT);
	ck_assert_int_eq(netns_spawn(path, slow, NULL, &pid), 0);
	ck_assert_int_eq(netns_waitpid(pid, &status, 50), ETIMEDOUT);
	kill(pid, SIGKILL);
	ck_assert_int_eq(netns_waitpid(pid, &status, 5000), 0);
	ck_assert(WIFSIGNALED(status));
	drop_ns();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("netns");
	TCase *tc = tcase_create("core");

	if (geteuid() != 0 || system("unshare -n true 2>/dev/null") != 0) {
		printf("SKIPPED: needs root and network namespaces\n");
		return 77;
	}
	/* Named after the runner, which removes it at the end even if a test failed. */
	snprintf(name, sizeof(name), "onsight-nstest-%d", (int)getpid());
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	snprintf(etcdir, sizeof(etcdir), "/etc/netns/%s", name);
	tcase_add_test(tc, test_socket_is_made_inside_and_thread_returns);
	tcase_add_test(tc, test_run_and_spawn_execute_inside_with_their_resolv_conf);
	suite_add_tcase(s, tc);
	{
		int rc = check_run(s);

		drop_ns();
		return rc;
	}
}
