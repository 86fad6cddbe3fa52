/* test_lab.c - the lab with real traffic: every shipped profile's reachability matrix,
 * migration, isolation from the host's network, crash + gc, labs side by side, impairments.
 * Needs root and network namespaces; elsewhere every test reports SKIPPED (exit 77). */
#include "fwlab.h"
#include "labtest.h"

#include "onsight/netns.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MATRIX ONSIGHT_SOURCE_DIR "/mock-firewall/tests/matrix.json"
#define PROFILES ONSIGHT_SOURCE_DIR "/mock-firewall/profiles"

static const char *const net_listen[] = {"tcp:80",   "tcp:443",  "tcp:5060", "tcp:5061",
                                         "tcp:8080", "udp:3478", "udp:5060", "udp:15000"};
static const char *const lan_listen[] = {"tcp:5060"};

static struct fwlab *up_lab(const char *profile, int n)
{
	char prefix[32], err[1024];
	struct fwlab *l = NULL;
	int rc;

	lt_prefix(prefix, sizeof(prefix), n);
	rc = fwlab_up(&l, profile, prefix, err, sizeof(err));
	ck_assert_msg(rc == 0, "up %s: %s", profile, err);
	ck_assert_int_eq(lt_listen(l, "net", net_listen, 8), 0);
	ck_assert_int_eq(lt_listen(l, "lan", lan_listen, 1), 0);
	return l;
}

/* ---- the matrix ---- */

struct probe_job {
	const char *ns; /* ep namespace path */
	const char *kind, *target, *qtype;
	const struct fwlab *l;
	int expect; /* what the matrix wants */
	int result; /* 1/0, or an HTTP status */
	pthread_t th;
};

static int probe_once(struct probe_job *j);

static void *probe_thread(void *arg)
{
	struct probe_job *j = arg;

	/* What should work gets three tries, as a real client retries: a lossy profile
	 * (customer-hospital) must not make the matrix flaky. What should fail gets one. */
	for (int i = 0; i < (j->expect ? 3 : 1); i++)
		if ((j->result = probe_once(j)) == j->expect)
			break;
	return NULL;
}

static int probe_once(struct probe_job *j)
{
	char host[128];
	const char *colon = strrchr(j->target, ':');
	const char *addr;
	int port = colon ? atoi(colon + 1) : 0;

	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - j->target) : 127, j->target);
	addr = fwlab_host_addr(j->l, host);
	if (strcmp(j->kind, "dns") == 0)
		return lt_dns(j->ns, "198.51.100.53", j->target,
		              strcmp(j->qtype, "SRV") == 0 ? 33 : 1, 2000) == 0;
	if (strcmp(j->kind, "connect") == 0)
		return lt_connect(j->ns, "198.51.100.3", 3128, j->target, 2000);
	if (strcmp(j->kind, "tcp") == 0)
		return addr && lt_tcp(j->ns, addr, port, 1500) == 0;
	return addr && lt_udp(j->ns, addr, port, 1500) == 0;
}

static json_t *matrix(void)
{
	json_error_t e;
	json_t *m = json_load_file(MATRIX, JSON_REJECT_DUPLICATES, &e);

	ck_assert_msg(m != NULL, "%s: %s", MATRIX, e.text);
	return m;
}

static void check_matrix(struct fwlab *l, const json_t *probes, const json_t *want,
                         const char *profile)
{
	size_t n = json_array_size(probes), bad = 0;
	struct probe_job *jobs = calloc(n, sizeof(*jobs));
	char report[8192];
	size_t off = 0;

	report[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(probes, i);
		const json_t *w =
		        json_object_get(want, json_string_value(json_object_get(p, "id")));

		ck_assert_msg(w != NULL, "%s: no expectation for probe %s", profile,
		              json_string_value(json_object_get(p, "id")));
		jobs[i] = (struct probe_job){fwlab_netns(l, "ep"),
		                             json_string_value(json_object_get(p, "kind")),
		                             json_string_value(json_object_get(p, "target")),
		                             json_string_value(json_object_get(p, "qtype")),
		                             l,
		                             json_is_boolean(w) ? json_is_true(w)
		                                                : (int)json_integer_value(w),
		                             -1,
		                             0};
		ck_assert_int_eq(pthread_create(&jobs[i].th, NULL, probe_thread, &jobs[i]), 0);
	}
	for (size_t i = 0; i < n; i++) {
		const char *id =
		        json_string_value(json_object_get(json_array_get(probes, i), "id"));
		int expect = jobs[i].expect;

		pthread_join(jobs[i].th, NULL);
		if (jobs[i].result != expect) {
			bad++;
			off += (size_t)snprintf(report + off, sizeof(report) - off,
			                        "  %s (%s %s): expected %d, got %d\n", id,
			                        jobs[i].kind, jobs[i].target, expect,
			                        jobs[i].result);
		}
	}
	free(jobs);
	ck_assert_msg(bad == 0, "profile %s: %zu probes disagree:\n%s", profile, bad, report);
}

static const char *const shipped[] = {"open",
                                      "s1",
                                      "s2-inside",
                                      "s3",
                                      "s4",
                                      "https-only",
                                      "http-only",
                                      "customer-hospital",
                                      "customer-factory"};

START_TEST(test_profile_allows_what_it_allows_and_forbids_the_rest)
{
	json_t *m = matrix();
	const char *profile = shipped[_i];
	const json_t *want = json_object_get(json_object_get(m, "expect"), profile);
	struct fwlab *l;

	ck_assert_msg(want != NULL, "matrix.json has no expectations for %s", profile);
	/* FWLAB_TEST_ONLY=NAME runs the matrix of one profile (while working on it). */
	if (getenv("FWLAB_TEST_ONLY") && strcmp(getenv("FWLAB_TEST_ONLY"), profile) != 0)
		return;
	l = up_lab(profile, _i);
	check_matrix(l, json_object_get(m, "probes"), want, profile);
	if (getenv("FWLAB_TEST_KEEP"))
		return; /* for a post-mortem; `mock-firewall down --prefix ...` removes it */
	ck_assert_int_eq(fwlab_down(l), 0);
	json_decref(m);
}
END_TEST

START_TEST(test_every_shipped_profile_is_in_the_matrix)
{
	DIR *d = opendir(PROFILES);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), k;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		for (k = 0; k < sizeof(shipped) / sizeof(shipped[0]); k++)
			if (strncmp(e->d_name, shipped[k], len - 5) == 0 &&
			    strlen(shipped[k]) == len - 5)
				break;
		ck_assert_msg(k < sizeof(shipped) / sizeof(shipped[0]),
		              "profile %s is not covered by the reachability matrix", e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_uint_eq(n, sizeof(shipped) / sizeof(shipped[0]));
}
END_TEST

/* ---- migration ---- */

static int netlink_sock(const char *ns)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
	                         .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE};
	int fd = netns_socket(ns, AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads pending notifications; returns a bit mask: 1 new address want, 2 address removed,
 * 4 new default route, 8 link change. */
static int netlink_seen(int fd, const char *want)
{
	char buf[16384];
	int seen = 0;
	ssize_t n;
	struct pollfd p = {fd, POLLIN, 0};

	while (poll(&p, 1, 200) == 1 && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == RTM_NEWLINK)
				seen |= 8;
			if (h->nlmsg_type == RTM_DELADDR)
				seen |= 2;
			if (h->nlmsg_type == RTM_NEWROUTE) {
				struct rtmsg *r = NLMSG_DATA(h);

				if (r->rtm_dst_len == 0 && r->rtm_table == RT_TABLE_MAIN)
					seen |= 4;
			}
			if (h->nlmsg_type == RTM_NEWADDR) {
				struct ifaddrmsg *a = NLMSG_DATA(h);
				struct rtattr *rta = IFA_RTA(a);
				int len = (int)IFA_PAYLOAD(h);

				for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
					char s[INET_ADDRSTRLEN];

					if (rta->rta_type == IFA_LOCAL &&
					    inet_ntop(AF_INET, RTA_DATA(rta), s, sizeof(s)) &&
					    strcmp(s, want) == 0)
						seen |= 1;
				}
			}
		}
	}
	return seen;
}

static unsigned ep_ifindex(struct fwlab *l)
{
	int old = -1;
	unsigned idx;

	ck_assert_int_eq(netns_enter(fwlab_netns(l, "ep"), &old), 0);
	idx = if_nametoindex("eth0");
	ck_assert_int_eq(netns_leave(old), 0);
	return idx;
}

static int resolv_has(struct fwlab *l, const char *server)
{
	char path[256], buf[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/etc/netns/%s-ep/resolv.conf", fwlab_prefix(l));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, server) != NULL;
}

START_TEST(test_migrate_outside_passes_the_firewall_and_inside_blocks_again)
{
	struct fwlab *l = up_lab("s2-inside", 20);
	const char *ep = fwlab_netns(l, "ep");
	const char *sip = fwlab_host_addr(l, "sip.librestream.com");
	unsigned idx = ep_ifindex(l);
	int nl = netlink_sock(ep), seen;

	ck_assert_int_ne(lt_tcp(ep, sip, 5060, 800), 0);
	ck_assert_int_eq(fwlab_migrate(l, "outside"), 0);
	ck_assert_str_eq(fwlab_where(l), "outside");
	seen = netlink_seen(nl, "192.0.2.10");
	ck_assert_msg((seen & 15) == 15, "netlink events seen on outside: %#x", seen);
	ck_assert_uint_eq(ep_ifindex(l), idx);
	ck_assert(resolv_has(l, "203.0.113.53"));
	ck_assert_int_eq(lt_tcp(ep, sip, 5060, 1500), 0);
	ck_assert_int_eq(lt_udp(ep, sip, 5060, 1500), 0);
	ck_assert_int_eq(lt_dns(ep, "203.0.113.53", "sip.librestream.com", 1, 1500), 0);

	ck_assert_int_eq(fwlab_migrate(l, "inside"), 0);
	seen = netlink_seen(nl, "198.51.100.10");
	ck_assert_msg((seen & 15) == 15, "netlink events seen on inside: %#x", seen);
	ck_assert_uint_eq(ep_ifindex(l), idx);
	ck_assert(resolv_has(l, "198.51.100.53"));
	ck_assert_int_ne(lt_tcp(ep, sip, 5060, 800), 0);
	ck_assert_int_eq(lt_connect(ep, "198.51.100.3", 3128, "sip.librestream.com:443", 2000),
	                 200);
	close(nl);
	ck_assert_int_eq(fwlab_down(l), 0);
}
END_TEST

/* ---- isolation ---- */

static size_t host_addresses(char (*out)[INET6_ADDRSTRLEN], int *fam, size_t cap)
{
	struct ifaddrs *ifa = NULL;
	size_t n = 0;
	FILE *f;
	char line[256];

	ck_assert_int_eq(getifaddrs(&ifa), 0);
	for (struct ifaddrs *i = ifa; i && n < cap; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out[n],
			          INET6_ADDRSTRLEN);
			fam[n++] = AF_INET;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)i->ifa_addr;

			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &s6->sin6_addr, out[n], INET6_ADDRSTRLEN);
			fam[n++] = AF_INET6;
		}
	}
	freeifaddrs(ifa);
	/* The default gateway(s): /proc/net/route of the host's namespace. */
	f = fopen("/proc/net/route", "r");
	while (f && fgets(line, sizeof(line), f) && n < cap) {
		char ifn[32];
		unsigned dst, gw;
		struct in_addr a;

		if (sscanf(line, "%31s %x %x", ifn, &dst, &gw) == 3 && dst == 0 && gw != 0) {
			a.s_addr = gw;
			inet_ntop(AF_INET, &a, out[n], INET6_ADDRSTRLEN);
			fam[n++] = AF_INET;
		}
	}
	if (f)
		fclose(f);
	return n;
}

START_TEST(test_no_lab_namespace_reaches_the_host_network)
{
	static const char *const roles[] = {"ep", "fw", "lan", "net", "out"};
	static const int ports[] = {22, 53, 80, 443, 8080};
	char addrs[64][INET6_ADDRSTRLEN];
	int fam[64];
	size_t n = host_addresses(addrs, fam, 64), tried = 0;
	struct fwlab *l = up_lab("open", 30);

	ck_assert_msg(n > 0, "the host has no address to try");
	for (size_t r = 0; r < 5; r++) {
		const char *ns = fwlab_netns(l, roles[r]);

		for (size_t i = 0; i < n; i++) {
			for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
				int rc;

				if (fam[i] == AF_INET) {
					rc = lt_tcp(ns, addrs[i], ports[p], 300);
					/* ECONNREFUSED would mean the address answered (a RST). */
					ck_assert_msg(rc != 0 && rc != ECONNREFUSED,
					              "%s reached host address %s:%d (%s)",
					              roles[r], addrs[i], ports[p],
					              rc ? strerror(rc) : "connected");
				} else {
					struct sockaddr_in6 s6 = {
					        .sin6_family = AF_INET6,
					        .sin6_port = htons((uint16_t)ports[p])};
					int fd = netns_socket(ns, AF_INET6,
					                      SOCK_STREAM | SOCK_NONBLOCK, 0);

					inet_pton(AF_INET6, addrs[i], &s6.sin6_addr);
					ck_assert_int_ge(fd, 0);
					rc = connect(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0
					        ? 0
					        : errno;
					close(fd);
					/* IPv6 is off in the lab: no route, nothing sent. */
					ck_assert_msg(
					        rc != 0 && rc != EINPROGRESS,
					        "%s: IPv6 connect to %s did not fail at once (%s)",
					        roles[r], addrs[i], strerror(rc));
				}
				tried++;
			}
			if (fam[i] == AF_INET)
				ck_assert_msg(lt_udp(ns, addrs[i], 53, 300) != 0,
				              "%s: host address %s answered UDP 53", roles[r],
				              addrs[i]);
		}
	}
	printf("isolation: %zu host addresses x 5 namespaces, %zu connects, none answered\n", n,
	       tried);
	ck_assert_int_eq(fwlab_down(l), 0);
}
END_TEST

/* ---- crash and gc ---- */

static int any_netns_with(const char *prefix)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
		    e->d_name[strlen(prefix)] == '-')
			found = 1;
	closedir(d);
	return found;
}

static size_t root_links(void)
{
	struct if_nameindex *ni = if_nameindex(), *i;
	size_t n = 0;

	for (i = ni; i && i->if_index; i++)
		n++;
	if_freenameindex(ni);
	return n;
}

/* Alive and not a zombie (an orphan's zombie waits for init to reap it). */
static int running(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Pids the state file records (what would be left running after a crash). */
static size_t state_pids(const char *prefix, pid_t *pids, size_t cap)
{
	char path[256];
	json_t *st, *e;
	size_t i, n = 0;

	snprintf(path, sizeof(path), FWLAB_STATE_DIR "/%s.json", prefix);
	st = json_load_file(path, 0, NULL);
	json_array_foreach(json_object_get(st, "pids"), i, e)
	{
		if (n < cap)
			pids[n++] = (pid_t)json_integer_value(json_object_get(e, "pid"));
	}
	json_decref(st);
	return n;
}

START_TEST(test_sigkill_during_up_then_gc_leaves_nothing)
{
	static const char *const steps[] = {"state", "namespaces", "links", "services", "rules"};
	const char *step = steps[_i];
	char prefix[32], cli[512], report[2048], path[256];
	const char *bd = getenv("ONSIGHT_BUILD_DIR");
	size_t links = root_links(), np;
	pid_t pid, pids[16];
	int status = 0;

	lt_prefix(prefix, sizeof(prefix), 40 + _i);
	snprintf(cli, sizeof(cli), "%s/mock-firewall/mock-firewall", bd ? bd : ".");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The test hook stops `up` (SIGSTOP) right after the named step. */
		setenv("FWLAB_TEST_STOP_AFTER", step, 1);
		execl(cli, cli, "up", "open", "--prefix", prefix, "--foreground", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "up did not stop after step %s", step);
	snprintf(path, sizeof(path), FWLAB_STATE_DIR "/%s.json", prefix);
	ck_assert_msg(access(path, F_OK) == 0, "no state file after step %s", step);
	np = state_pids(prefix, pids, 16);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));

	ck_assert_int_eq(fwlab_gc(report, sizeof(report)), 0);
	ck_assert_msg(strstr(report, prefix) != NULL, "gc did not report %s: %s", prefix, report);
	ck_assert_msg(access(path, F_OK) != 0, "state file left after gc");
	ck_assert_msg(!any_netns_with(prefix), "namespace of %s left after gc", prefix);
	for (size_t i = 0; i < np; i++)
		ck_assert_msg(!running(pids[i]), "process %d left after gc", (int)pids[i]);
	ck_assert_uint_eq(root_links(), links);
	for (const char *r = "ep\0fw\0lan\0net\0out\0"; *r; r += strlen(r) + 1) {
		snprintf(path, sizeof(path), "/etc/netns/%s-%s", prefix, r);
		ck_assert_msg(access(path, F_OK) != 0, "%s left after gc", path);
	}
	snprintf(path, sizeof(path), FWLAB_STATE_DIR "/%s", prefix);
	ck_assert_msg(access(path, F_OK) != 0, "%s left after gc", path);
}
END_TEST

START_TEST(test_gc_keeps_a_lab_whose_owner_lives_and_down_stops_spawned)
{
	struct fwlab *l = up_lab("open", 50);
	char report[1024], path[256], prefix[32];
	char *argv[] = {"sleep", "60", NULL};
	pid_t pid, pids[16];
	size_t np;

	ck_assert_int_eq(fwlab_spawn(l, "net", argv, -1, -1, &pid), 0);
	ck_assert_int_eq(fwlab_gc(report, sizeof(report)), 0);
	snprintf(path, sizeof(path), FWLAB_STATE_DIR "/%s.json", fwlab_prefix(l));
	ck_assert_msg(access(path, F_OK) == 0, "gc removed a live lab: %s", report);
	snprintf(prefix, sizeof(prefix), "%s", fwlab_prefix(l));
	np = state_pids(prefix, pids, 16);
	ck_assert_uint_ge(np, 6); /* dnsmasq x2, tinyproxy, 2 listeners, sleep */
	ck_assert(running(pid));
	ck_assert_int_eq(fwlab_down(l), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	for (size_t i = 0; i < np; i++)
		ck_assert_msg(!running(pids[i]), "process %d left after down", (int)pids[i]);
	ck_assert(!any_netns_with(prefix));
}
END_TEST

/* ---- side by side ---- */

START_TEST(test_two_labs_run_side_by_side)
{
	struct fwlab *a = up_lab("open", 60), *b = up_lab("s2-inside", 61);
	char sip[16], err[256];
	struct fwlab *c = NULL;

	/* A copy: the lab's own strings go with fwlab_down(a). */
	snprintf(sip, sizeof(sip), "%s", fwlab_host_addr(a, "sip.librestream.com"));
	ck_assert_int_eq(lt_tcp(fwlab_netns(a, "ep"), sip, 5060, 1500), 0);
	ck_assert_int_ne(lt_tcp(fwlab_netns(b, "ep"), sip, 5060, 600), 0);
	/* The same prefix twice is refused, and refusing touches nothing of the first. */
	ck_assert_int_ne(fwlab_up(&c, "open", fwlab_prefix(a), err, sizeof(err)), 0);
	ck_assert_int_eq(lt_tcp(fwlab_netns(a, "ep"), sip, 5060, 1500), 0);
	ck_assert_int_eq(fwlab_down(a), 0);
	ck_assert_int_ne(lt_tcp(fwlab_netns(b, "ep"), sip, 5060, 600), 0);
	ck_assert_int_eq(lt_connect(fwlab_netns(b, "ep"), "198.51.100.3", 3128,
	                            "sip.librestream.com:443", 2000),
	                 200);
	ck_assert_int_eq(fwlab_down(b), 0);
}
END_TEST

/* ---- apply, impairments ---- */

static char *write_profile(const char *text)
{
	char *dir = tu_mkdtemp();
	char *p = tu_write(dir, "p.json", text);

	free(dir);
	return p;
}

START_TEST(test_apply_swaps_rules_and_proxy_live)
{
	struct fwlab *l = up_lab("open", 70);
	const char *ep = fwlab_netns(l, "ep");
	const char *sip = fwlab_host_addr(l, "sip.librestream.com");
	char err[1024];

	ck_assert_int_eq(lt_tcp(ep, sip, 5060, 1500), 0);
	ck_assert_int_eq(lt_connect(ep, "198.51.100.3", 3128, "teamlink1.librestream.com:80", 2000),
	                 200);
	ck_assert_msg(fwlab_apply(l, "https-only", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_ne(lt_tcp(ep, sip, 5060, 600), 0);
	ck_assert_int_eq(lt_connect(ep, "198.51.100.3", 3128, "teamlink1.librestream.com:80", 2000),
	                 403);
	/* A broken profile is refused and the running rules stay. */
	{
		char *bad =
		        write_profile("{\"policy\": \"accept\", \"allow\": [{\"to\": \"nope\"}]}");

		ck_assert_int_ne(fwlab_apply(l, bad, err, sizeof(err)), 0);
		ck_assert_msg(strstr(err, "allow[0]") && strstr(err, "nope"), "%s", err);
		free(bad);
	}
	ck_assert_int_ne(lt_tcp(ep, sip, 5060, 600), 0);
	/* The proxy goes away with a profile that has none, and comes back. */
	ck_assert_msg(fwlab_apply(l, "customer-factory", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(
	        lt_connect(ep, "198.51.100.3", 3128, "teamlink1.librestream.com:443", 1000), 0);
	ck_assert_msg(fwlab_apply(l, "open", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(
	        lt_connect(ep, "198.51.100.3", 3128, "teamlink1.librestream.com:443", 2000), 200);
	ck_assert_int_eq(fwlab_down(l), 0);
}
END_TEST

START_TEST(test_loss_and_rate_impair_the_link)
{
	char *prof = write_profile("{\"policy\": \"accept\", \"impair\": ["
	                           "{\"link\": \"fw-wan\", \"loss_percent\": 50}]}");
	char err[1024];
	struct fwlab *l = NULL;
	const char *ep, *media;
	int ok = 0;
	long ms;
	char prefix[32];

	lt_prefix(prefix, sizeof(prefix), 80);
	ck_assert_msg(fwlab_up(&l, prof, prefix, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lt_listen(l, "net", net_listen, 8), 0);
	ep = fwlab_netns(l, "ep");
	media = fwlab_host_addr(l, "media1.librestream.com");
	/* Warm up (neighbour tables) with retries, then 200 single-shot exchanges at 50% loss
	 * each way: ~25% come back. A retry every 300 ms succeeds with p = 0.25, so the warm-up
	 * gets 15 s (50 tries): 5 s failed about once in ten loaded runs. */
	ck_assert_int_eq(lt_udp(ep, media, 15000, 15000), 0);
	{
		int fd = netns_socket(ep, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(15000)};
		char buf[16];

		inet_pton(AF_INET, media, &sin.sin_addr);
		for (int i = 0; i < 200; i++)
			sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
		for (;;) {
			struct pollfd p = {fd, POLLIN, 0};

			if (poll(&p, 1, 500) != 1)
				break;
			while (recv(fd, buf, sizeof(buf), 0) > 0)
				ok++;
		}
		close(fd);
	}
	ck_assert_msg(ok >= 20 && ok <= 90, "50%% loss each way: %d of 200 came back", ok);
	/* 1 MB at 4 Mbit/s takes about 2 s; unshaped it takes a few ms. */
	ck_assert_msg(fwlab_apply(l, "open", err, sizeof(err)) == 0, "%s", err);
	ms = lt_bulk(ep, media, 8080, 1000000, 10000);
	ck_assert_msg(ms >= 0 && ms < 1000, "unshaped 1 MB took %ld ms", ms);
	{
		char *rate = write_profile("{\"policy\": \"accept\", \"impair\": ["
		                           "{\"link\": \"ep\", \"rate\": \"4mbit\"}]}");

		ck_assert_msg(fwlab_apply(l, rate, err, sizeof(err)) == 0, "%s", err);
		free(rate);
	}
	ms = lt_bulk(ep, media, 8080, 1000000, 10000);
	printf("impair: %d/200 datagrams back at 50%% loss; 1 MB at 4mbit in %ld ms\n", ok, ms);
	ck_assert_msg(ms >= 1500 && ms < 4000, "1 MB at 4 Mbit/s took %ld ms", ms);
	ck_assert_int_eq(fwlab_down(l), 0);
	free(prof);
}
END_TEST

START_TEST(test_delay_is_refused_when_the_kernel_has_no_netem)
{
	char *prof = write_profile("{\"policy\": \"accept\", \"impair\": ["
	                           "{\"link\": \"fw-wan\", \"delay_ms\": 50}]}");
	char err[1024], prefix[32];
	struct fwlab *l = NULL;
	int rc;

	lt_prefix(prefix, sizeof(prefix), 90);
	rc = fwlab_up(&l, prof, prefix, err, sizeof(err));
	if (rc == 0) {
		/* This kernel has netem: the delay must then be real. */
		printf("netem present: delay applied\n");
		ck_assert_int_eq(fwlab_down(l), 0);
	} else {
		ck_assert_int_eq(rc, ENOTSUP);
		ck_assert_msg(strstr(err, "unsupported on this kernel") && strstr(err, "fw-wan"),
		              "%s", err);
		{
			char path[256];

			snprintf(path, sizeof(path), FWLAB_STATE_DIR "/%s.json", prefix);
			ck_assert_int_ne(access(path, F_OK), 0);
		}
	}
	free(prof);
}
END_TEST

/* ---- NAT ---- */

/* The address the internet sees when ep connects to sip:7000 (accepted in-process in net). */
static void seen_source(struct fwlab *l, char *out, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(7000)}, peer;
	socklen_t pl = sizeof(peer);
	int one = 1, lfd, cfd, afd;
	struct pollfd p;

	inet_pton(AF_INET, fwlab_host_addr(l, "sip.librestream.com"), &sin.sin_addr);
	lfd = netns_socket(fwlab_netns(l, "net"), AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	cfd = netns_socket(fwlab_netns(l, "ep"), AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(cfd, 0);
	connect(cfd, (struct sockaddr *)&sin, sizeof(sin));
	p = (struct pollfd){lfd, POLLIN, 0};
	ck_assert_int_eq(poll(&p, 1, 3000), 1);
	afd = accept(lfd, (struct sockaddr *)&peer, &pl);
	ck_assert_int_ge(afd, 0);
	inet_ntop(AF_INET, &peer.sin_addr, out, (socklen_t)len);
	close(afd);
	close(cfd);
	close(lfd);
}

START_TEST(test_nat_hides_the_lan_unless_the_profile_turns_it_off)
{
	struct fwlab *l = up_lab("open", 95);
	char src[INET_ADDRSTRLEN], err[1024];
	char *nonat = write_profile("{\"policy\": \"accept\", \"nat\": false}");

	seen_source(l, src, sizeof(src));
	ck_assert_str_eq(src, "203.0.113.2");
	ck_assert_msg(fwlab_apply(l, nonat, err, sizeof(err)) == 0, "%s", err);
	seen_source(l, src, sizeof(src));
	ck_assert_str_eq(src, "198.51.100.10");
	ck_assert_int_eq(fwlab_migrate(l, "outside"), 0);
	seen_source(l, src, sizeof(src));
	ck_assert_str_eq(src, "192.0.2.10"); /* out routes, it does not translate */
	ck_assert_int_eq(fwlab_down(l), 0);
	free(nonat);
}
END_TEST

/* s4's outside section: the network the endpoint sits on outside lets only DNS to the lab
 * resolver and TCP 80/443 out; replies come back. apply swaps that filter like fw's. */
START_TEST(test_s4_outside_network_lets_only_web_and_dns_out)
{
	struct fwlab *l = up_lab("s4", 110);
	const char *ep = fwlab_netns(l, "ep");
	const char *tl = fwlab_host_addr(l, "teamlink1.librestream.com");
	const char *vcse = fwlab_host_addr(l, "vcs-expressway.corp.example");
	const char *sip = fwlab_host_addr(l, "sip.librestream.com");
	const char *oam = fwlab_host_addr(l, "onsight.librestream.com");
	char err[1024];

	ck_assert_str_eq(tl, "203.0.113.41");
	ck_assert_str_eq(vcse, "203.0.113.60");
	ck_assert_int_eq(fwlab_migrate(l, "outside"), 0);
	ck_assert_int_eq(lt_tcp(ep, tl, 443, 1500), 0);
	ck_assert_int_eq(lt_tcp(ep, tl, 80, 1500), 0);
	ck_assert_int_eq(lt_dns(ep, "203.0.113.53", "vcs-expressway.corp.example", 1, 1500), 0);
	ck_assert_int_ne(lt_tcp(ep, vcse, 5060, 800), 0);
	ck_assert_int_ne(lt_tcp(ep, sip, 5061, 800), 0);
	ck_assert_int_ne(lt_tcp(ep, oam, 8080, 800), 0);
	ck_assert_int_ne(lt_udp(ep, vcse, 5060, 800), 0);
	ck_assert_int_ne(lt_udp(ep, sip, 3478, 800), 0);
	ck_assert_int_ne(lt_udp(ep, fwlab_host_addr(l, "media1.librestream.com"), 15000, 800), 0);
	/* A profile without the section: out forwards everything again. */
	ck_assert_msg(fwlab_apply(l, "open", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lt_tcp(ep, vcse, 5060, 1500), 0);
	ck_assert_int_eq(lt_udp(ep, sip, 3478, 1500), 0);
	ck_assert_msg(fwlab_apply(l, "s4", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_ne(lt_tcp(ep, vcse, 5060, 800), 0);
	ck_assert_int_ne(lt_udp(ep, sip, 3478, 800), 0);
	ck_assert_int_eq(lt_tcp(ep, tl, 443, 1500), 0);
	ck_assert_int_eq(fwlab_down(l), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lab");
	TCase *tc = tcase_create("lab");

	lt_require_lab();
	lt_set_runner_pid();
	/* Labs of an earlier run that was killed (a CTest timeout) have a dead owner. */
	fwlab_gc(NULL, 0);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_shipped_profile_is_in_the_matrix);
	tcase_add_loop_test(tc, test_profile_allows_what_it_allows_and_forbids_the_rest, 0,
	                    (int)(sizeof(shipped) / sizeof(shipped[0])));
	tcase_add_test(tc, test_migrate_outside_passes_the_firewall_and_inside_blocks_again);
	tcase_add_test(tc, test_no_lab_namespace_reaches_the_host_network);
	tcase_add_loop_test(tc, test_sigkill_during_up_then_gc_leaves_nothing, 0, 5);
	tcase_add_test(tc, test_gc_keeps_a_lab_whose_owner_lives_and_down_stops_spawned);
	tcase_add_test(tc, test_two_labs_run_side_by_side);
	tcase_add_test(tc, test_apply_swaps_rules_and_proxy_live);
	tcase_add_test(tc, test_loss_and_rate_impair_the_link);
	tcase_add_test(tc, test_delay_is_refused_when_the_kernel_has_no_netem);
	tcase_add_test(tc, test_nat_hides_the_lan_unless_the_profile_turns_it_off);
	tcase_add_test(tc, test_s4_outside_network_lets_only_web_and_dns_out);
	suite_add_tcase(s, tc);
	return check_run(s);
}
