/* lab.c - the lab: namespaces, links, addresses, firewall, services, state (fwlab.h). */
#define LOG_TAG "fwlab"
#include "fwlab.h"
#include "hosts.h"
#include "lab_int.h"
#include "nftgen.h"
#include "profile.h"
#include "svc.h"
#include "sys.h"

#include "onsight/journal.h"
#include "onsight/log.h"
#include "onsight/netns.h"
#include "onsight/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const lab_roles[ROLE_COUNT] = {"ep", "fw", "lan", "net", "out"};

int lab_role(const char *role)
{
	for (int i = 0; role && i < ROLE_COUNT; i++)
		if (strcmp(role, lab_roles[i]) == 0)
			return i;
	return -1;
}

static int prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > FWLAB_PREFIX_MAX || p[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return 0;
	return 1;
}

/* ---- state file ---- */

int lab_save(struct fwlab *l)
{
	char tmp[sizeof(l->state) + 32];

	/* The writer's pid in the name: a writer killed between the write and the rename leaves a
	 * file gc can tell is orphaned (fwlab_gc, gc_tmp_files). */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", l->state, (long)getpid());
	if (json_dump_file(l->st, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0)
		return EIO;
	/* rename: a reader (gc) sees the old or the new document, never half of one. */
	if (rename(tmp, l->state) < 0)
		return errno;
	return 0;
}

static json_t *proc_ref(pid_t pid, const char *what)
{
	return json_pack("{s:i, s:I, s:s}", "pid", (int)pid, "start",
	                 (json_int_t)sys_proc_start(pid), "what", what);
}

int lab_record_pid(struct fwlab *l, pid_t pid, const char *what)
{
	json_array_append_new(json_object_get(l->st, "pids"), proc_ref(pid, what));
	return lab_save(l);
}

static void lab_init_names(struct fwlab *l, const char *prefix)
{
	str_copy(l->prefix, prefix, sizeof(l->prefix));
	for (int i = 0; i < ROLE_COUNT; i++) {
		snprintf(l->ns[i], sizeof(l->ns[i]), "%s-%s", prefix, lab_roles[i]);
		snprintf(l->nspath[i], sizeof(l->nspath[i]), "/run/netns/%s", l->ns[i]);
	}
	snprintf(l->dir, sizeof(l->dir), "%s/%s", FWLAB_STATE_DIR, prefix);
	snprintf(l->state, sizeof(l->state), "%s/%s.json", FWLAB_STATE_DIR, prefix);
	l->nhosts = hosts_build(l->hosts, HOSTS_MAX, l->domain[0] ? l->domain : NULL);
}

/* Only "<prefix>-<role>" names: a state file never leads teardown anywhere else. */
static int lab_ns_name_ok(const json_t *st, const char *name)
{
	const char *prefix = json_string_value(json_object_get(st, "prefix"));
	size_t n = prefix ? strlen(prefix) : 0;

	if (!name || !prefix || strncmp(name, prefix, n) != 0 || name[n] != '-')
		return 0;
	return lab_role(name + n + 1) >= 0;
}

/* The keeper names itself "fwlab-<prefix>" (truncated to the 15 characters of comm). */
static int is_keeper(pid_t pid, const char *prefix)
{
	char path[64], comm[32] = "", want[32];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(want, sizeof(want), "fwlab-%s", prefix ? prefix : "");
	want[15] = '\0';
	return strcmp(comm, want) == 0;
}

/* ---- teardown (down and gc share it; it works from the state document alone) ---- */

static int remove_lab_doc(const json_t *st, const char *state_path)
{
	unsigned long long inodes[16];
	size_t ni = 0, np = 0;
	pid_t pids[256];
	const json_t *a, *e;
	size_t i;
	int err = 0;
	pid_t self = getpid();

	/* 1. processes: the recorded ones (if still the same process), the owner (a keeper
	 * process when made by the CLI) and anything else living in the lab's namespaces. */
	json_array_foreach(json_object_get(st, "pids"), i, e)
	{
		pid_t pid = (pid_t)json_integer_value(json_object_get(e, "pid"));
		unsigned long long start =
		        (unsigned long long)json_integer_value(json_object_get(e, "start"));

		if (pid != self && np < ARRAY_SIZE(pids) && sys_proc_alive(pid, start))
			pids[np++] = pid;
	}
	{
		const json_t *o = json_object_get(st, "owner");
		pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
		unsigned long long start =
		        (unsigned long long)json_integer_value(json_object_get(o, "start"));

		/* Only the CLI's own keeper is stopped, and only if it still is one. */
		if (json_is_true(json_object_get(o, "keeper")) && pid != self &&
		    np < ARRAY_SIZE(pids) && sys_proc_alive(pid, start) &&
		    is_keeper(pid, json_string_value(json_object_get(st, "prefix"))))
			pids[np++] = pid;
	}
	a = json_object_get(st, "namespaces");
	json_array_foreach(a, i, e)
	{
		char path[128];

		if (!lab_ns_name_ok(st, json_string_value(e)))
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", json_string_value(e));
		if (ni < ARRAY_SIZE(inodes))
			inodes[ni++] = netns_inode(path);
	}
	np += sys_procs_in_netns(inodes, ni, pids + np, ARRAY_SIZE(pids) - np);
	if (np && sys_stop(pids, np, 1000) != 0) {
		log_warnx("some processes of the lab did not exit");
		err = EBUSY;
	}
	/* 2. namespaces: the veths inside go with them. */
	json_array_foreach(a, i, e)
	{
		char path[128];

		if (!lab_ns_name_ok(st, json_string_value(e)))
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", json_string_value(e));
		if (umount2(path, MNT_DETACH) < 0 && errno != ENOENT && errno != EINVAL)
			err = err ? err : errno;
		if (unlink(path) < 0 && errno != ENOENT)
			err = err ? err : errno;
	}
	/* 3. files: /etc/netns/NS, the lab's run directory, then the state itself. */
	json_array_foreach(json_object_get(st, "dirs"), i, e)
	{
		const char *d = json_string_value(e);

		char own[128];

		/* Only directories the lab creates: never follow a doctored state file elsewhere. */
		snprintf(own, sizeof(own), "%s/%s", FWLAB_STATE_DIR,
		         json_string_value(json_object_get(st, "prefix")) ?: "");
		if (d &&
		    ((strncmp(d, "/etc/netns/", 11) == 0 && lab_ns_name_ok(st, d + 11)) ||
		     strcmp(d, own) == 0))
			sys_rmdir_files(d);
	}
	if (state_path && unlink(state_path) < 0 && errno != ENOENT)
		err = err ? err : errno;
	return err;
}

/* ---- running tools ---- */

static int run_ip_batch(struct fwlab *l, int role, const char *batch, char *err, size_t errlen)
{
	char out[2048];
	char *argv_root[] = {"ip", "-batch", "-", NULL};
	char *argv_ns[] = {"ip", "-n", NULL, "-batch", "-", NULL};
	int rc;

	if (role >= 0)
		argv_ns[2] = l->ns[role];
	rc = sys_run(NULL, role >= 0 ? argv_ns : argv_root, batch, out, sizeof(out), 10000);
	if (rc != 0) {
		err_set(err, errlen, "ip%s%s: %s", role >= 0 ? " -n " : "",
		        role >= 0 ? l->ns[role] : "", rc < 0 ? strerror(-rc) : out);
		return rc < 0 ? -rc : EIO;
	}
	return 0;
}

/* Applies an nft JSON batch in role's namespace, keeping a copy in the lab directory. */
static int run_nft(struct fwlab *l, int role, json_t *batch, char *err, size_t errlen)
{
	char path[256], out[2048];
	char *argv[] = {"nft", "-j", "-f", path, NULL};
	int rc;

	snprintf(path, sizeof(path), "%s/nft-%s.json", l->dir, lab_roles[role]);
	if (json_dump_file(batch, path, JSON_INDENT(1)) != 0) {
		err_set(err, errlen, "%s: cannot write", path);
		return EIO;
	}
	rc = sys_run(l->nspath[role], argv, NULL, out, sizeof(out), 10000);
	if (rc != 0) {
		err_set(err, errlen, "nft -j -f %s in %s: %s", path, l->ns[role],
		        rc < 0 ? strerror(-rc) : out);
		return rc < 0 ? -rc : EIO;
	}
	return 0;
}

/* ---- building the topology ---- */

static int create_namespaces(struct fwlab *l, char *err, size_t errlen)
{
	char b[2048];
	size_t off = 0;

	for (int i = 0; i < ROLE_COUNT; i++)
		off += (size_t)snprintf(b + off, sizeof(b) - off, "netns add %s\n", l->ns[i]);
	/* Each link is made with both ends directly in their namespaces: the host's own
	 * namespace never holds a lab interface, not even for a moment.
	 * Every end gets its own ifindex. Left to the kernel, both ends of a link between two
	 * fresh namespaces get index 2; the kernel then takes the link for one that is not
	 * stacked on another and delays its carrier change by up to a second (linkwatch), so
	 * the bridge port stays disabled and the first ARP of a scenario goes unanswered. */
	snprintf(b + off, sizeof(b) - off,
	         "link add eth0 index 10 netns %s type veth peer name ep0 index 11 netns %s\n"
	         "link add " FW_DEV_LAN " index 12 netns %s type veth peer name fw0 index 13 "
	         "netns %s\n"
	         "link add " FW_DEV_WAN " index 14 netns %s type veth peer name fw0 index 15 "
	         "netns %s\n"
	         "link add net0 index 16 netns %s type veth peer name out0 index 17 netns %s\n",
	         l->ns[ROLE_EP], l->ns[ROLE_LAN], l->ns[ROLE_FW], l->ns[ROLE_LAN], l->ns[ROLE_FW],
	         l->ns[ROLE_NET], l->ns[ROLE_OUT], l->ns[ROLE_NET]);
	return run_ip_batch(l, -1, b, err, errlen);
}

static int set_sysctls(struct fwlab *l, char *err, size_t errlen)
{
	int rc;

	for (int i = 0; i < ROLE_COUNT; i++) {
		/* IPv4 only (IPv6 is optional in the plan): no router solicitations or DAD noise
		 * in the captures. */
		rc = sys_sysctl(l->nspath[i], "net/ipv6/conf/all/disable_ipv6", "1");
		if (!rc)
			rc = sys_sysctl(l->nspath[i], "net/ipv6/conf/default/disable_ipv6", "1");
		if (!rc && (i == ROLE_FW || i == ROLE_OUT || i == ROLE_NET))
			rc = sys_sysctl(l->nspath[i], "net/ipv4/ip_forward", "1");
		if (rc && rc != ENOENT) {
			err_set(err, errlen, "sysctl in %s: %s", l->ns[i], strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int configure_links(struct fwlab *l, char *err, size_t errlen)
{
	char b[4096];
	size_t off;
	int rc;

	rc = run_ip_batch(l, ROLE_EP,
	                  "link set lo up\nlink set eth0 up\n"
	                  "addr add " LAB_EP_INSIDE "/24 dev eth0\n"
	                  "route add default via " LAB_FW_LAN "\n",
	                  err, errlen);
	if (rc)
		return rc;
	rc = run_ip_batch(l, ROLE_LAN,
	                  "link set lo up\nlink add br0 type bridge\n"
	                  "link set ep0 master br0\nlink set fw0 master br0\n"
	                  "link set ep0 up\nlink set fw0 up\nlink set br0 up\n"
	                  "addr add " LAB_PROXY "/24 dev br0\n"
	                  "addr add " LAB_VCS_CONTROL "/24 dev br0\n"
	                  "addr add " LAB_LAN_DNS "/24 dev br0\n"
	                  "route add default via " LAB_FW_LAN "\n",
	                  err, errlen);
	if (rc)
		return rc;
	rc = run_ip_batch(l, ROLE_FW,
	                  "link set lo up\nlink set " FW_DEV_LAN " up\nlink set " FW_DEV_WAN " up\n"
	                  "addr add " LAB_FW_LAN "/24 dev " FW_DEV_LAN "\n"
	                  "addr add " LAB_FW_WAN "/24 dev " FW_DEV_WAN "\n"
	                  "route add " LAB_OUT_CIDR " via " LAB_OUT_NET "\n",
	                  err, errlen);
	if (rc)
		return rc;
	rc = run_ip_batch(l, ROLE_OUT,
	                  "link set lo up\nlink set net0 up\n"
	                  "addr add " LAB_OUT_NET "/24 dev net0\n",
	                  err, errlen);
	if (rc)
		return rc;
	off = (size_t)snprintf(b, sizeof(b),
	                       "link set lo up\nlink add br0 type bridge\n"
	                       "link set fw0 master br0\nlink set out0 master br0\n"
	                       "link set fw0 up\nlink set out0 up\nlink set br0 up\n"
	                       "addr add " LAB_NET_DNS "/24 dev br0\n");
	for (size_t i = 0; i < l->nhosts && off < sizeof(b); i++)
		if (strcmp(l->hosts[i].ns, "net") == 0)
			off += (size_t)snprintf(b + off, sizeof(b) - off,
			                        "addr add %s/24 dev br0\n", l->hosts[i].addr);
	/* The internet routes back to the LAN (used only when NAT is off) and to `out`. */
	if (off < sizeof(b))
		snprintf(b + off, sizeof(b) - off,
		         "route add " LAB_LAN_CIDR " via " LAB_FW_WAN "\n"
		         "route add " LAB_OUT_CIDR " via " LAB_OUT_NET "\n");
	return run_ip_batch(l, ROLE_NET, b, err, errlen);
}

static int write_resolv(struct fwlab *l, int role, const char *dns)
{
	char path[160], text[128];

	snprintf(path, sizeof(path), "/etc/netns/%s/resolv.conf", l->ns[role]);
	snprintf(text, sizeof(text), "# mock-firewall lab %s\nnameserver %s\noptions timeout:1\n",
	         l->prefix, dns);
	return sys_write_file(path, text);
}

static int write_resolvs(struct fwlab *l, char *err, size_t errlen)
{
	for (int i = 0; i < ROLE_COUNT; i++) {
		char d[160];
		int rc;

		snprintf(d, sizeof(d), "/etc/netns/%s", l->ns[i]);
		rc = sys_mkdirs(d, 0755);
		if (!rc)
			rc = write_resolv(
			        l, i, i == ROLE_EP || i == ROLE_LAN ? LAB_LAN_DNS : LAB_NET_DNS);
		if (rc) {
			err_set(err, errlen, "%s/resolv.conf: %s", d, strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* ---- services ---- */

static int spawn_logged(struct fwlab *l, int role, char *const argv[], const char *what,
                        pid_t *pidp)
{
	char path[256];
	struct netns_spawn_opts o = {-1, -1, -1, NULL, 1};
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s.log", l->dir, what);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	o.out_fd = fd;
	o.err_fd = fd;
	rc = netns_spawn(l->nspath[role], argv, &o, pidp);
	close(fd);
	if (rc)
		return rc;
	return lab_record_pid(l, *pidp, what);
}

/* Waits until something accepts TCP on addr:port inside role's namespace (services bind
 * asynchronously after exec). Bounded: retries every 2 ms up to timeout_ms. */
static int wait_listening(struct fwlab *l, int role, const char *addr, int port, int timeout_ms)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timespec pause = {0, 2000000};

	inet_pton(AF_INET, addr, &sin.sin_addr);
	for (int waited = 0; waited <= timeout_ms; waited += 2) {
		int fd = netns_socket(l->nspath[role], AF_INET, SOCK_STREAM, 0);
		int ok;

		if (fd < 0)
			return -fd;
		ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
		close(fd);
		if (ok)
			return 0;
		nanosleep(&pause, NULL);
	}
	return ETIMEDOUT;
}

static int start_dns(struct fwlab *l, char *err, size_t errlen)
{
	char conf[8192], path[256];
	char *argv[] = {"dnsmasq", "-k", "-C", path, NULL};
	pid_t pid;
	int rc;

	rc = svc_dnsmasq_net(conf, sizeof(conf), l->hosts, l->nhosts,
	                     l->domain[0] ? l->domain : NULL);
	snprintf(path, sizeof(path), "%s/dnsmasq-net.conf", l->dir);
	if (!rc)
		rc = sys_write_file(path, conf);
	if (!rc)
		rc = spawn_logged(l, ROLE_NET, argv, "dnsmasq-net", &pid);
	if (rc) {
		err_set(err, errlen, "dnsmasq in %s: %s", l->ns[ROLE_NET], strerror(rc));
		return rc;
	}
	rc = svc_dnsmasq_lan(conf, sizeof(conf), l->hosts, l->nhosts);
	snprintf(path, sizeof(path), "%s/dnsmasq-lan.conf", l->dir);
	if (!rc)
		rc = sys_write_file(path, conf);
	if (!rc)
		rc = spawn_logged(l, ROLE_LAN, argv, "dnsmasq-lan", &pid);
	if (rc)
		err_set(err, errlen, "dnsmasq in %s: %s", l->ns[ROLE_LAN], strerror(rc));
	return rc;
}

/* Writes the proxy's files; *changed says whether they differ from what runs. */
static int write_proxy_conf(struct fwlab *l, const struct profile *p, int *changed)
{
	char conf[4096], filter[8192], path[256], fpath[256], *old = NULL;
	size_t oldlen = 0;
	int rc;

	snprintf(fpath, sizeof(fpath), "%s/proxy-allow.ere", l->dir);
	snprintf(path, sizeof(path), "%s/tinyproxy.conf", l->dir);
	rc = svc_proxy_filter(filter, sizeof(filter), p);
	if (!rc)
		rc = svc_tinyproxy(conf, sizeof(conf), p, fpath);
	if (rc)
		return rc;
	*changed = 1;
	if (file_read(fpath, sizeof(filter), &old, &oldlen) == 0) {
		*changed = strcmp(old, filter) != 0;
		free(old);
		old = NULL;
	}
	if (!*changed && file_read(path, sizeof(conf), &old, &oldlen) == 0) {
		*changed = strcmp(old, conf) != 0;
		free(old);
	}
	rc = sys_write_file(fpath, filter);
	if (!rc)
		rc = sys_write_file(path, conf);
	return rc;
}

/* 1 if a process recorded as what still runs. */
static int recorded_alive(struct fwlab *l, const char *what)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(l->st, "pids"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "what")) ?: "", what) == 0 &&
		    sys_proc_alive(
		            (pid_t)json_integer_value(json_object_get(e, "pid")),
		            (unsigned long long)json_integer_value(json_object_get(e, "start"))))
			return 1;
	}
	return 0;
}

static void stop_recorded(struct fwlab *l, const char *what)
{
	json_t *a = json_object_get(l->st, "pids"), *e;
	size_t i;

	json_array_foreach(a, i, e)
	{
		pid_t pid = (pid_t)json_integer_value(json_object_get(e, "pid"));
		unsigned long long start =
		        (unsigned long long)json_integer_value(json_object_get(e, "start"));

		if (strcmp(json_string_value(json_object_get(e, "what")) ?: "", what) != 0)
			continue;
		if (sys_proc_alive(pid, start))
			sys_stop(&pid, 1, 1000);
		json_array_remove(a, i);
		i--;
	}
}

static int start_proxy(struct fwlab *l, const struct profile *p, int force, char *err,
                       size_t errlen)
{
	char path[256];
	char *argv[] = {"tinyproxy", "-d", "-c", path, NULL};
	int changed = 0, rc;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/tinyproxy.conf", l->dir);
	rc = write_proxy_conf(l, p, &changed);
	if (rc) {
		err_set(err, errlen, "tinyproxy configuration: %s", strerror(rc));
		return rc;
	}
	if (!changed && !force && p->proxy_enabled == recorded_alive(l, "tinyproxy"))
		return 0;
	/* A changed allow-list or port list means a restart: tinyproxy reads both at start. */
	stop_recorded(l, "tinyproxy");
	if (!p->proxy_enabled)
		return lab_save(l);
	rc = spawn_logged(l, ROLE_LAN, argv, "tinyproxy", &pid);
	if (rc)
		err_set(err, errlen, "tinyproxy in %s: %s", l->ns[ROLE_LAN], strerror(rc));
	return rc;
}

static int wait_services(struct fwlab *l, const struct profile *p, char *err, size_t errlen)
{
	if (wait_listening(l, ROLE_NET, LAB_NET_DNS, 53, 5000) != 0) {
		err_set(err, errlen, "dnsmasq in %s did not start (see %s/dnsmasq-net.log)",
		        l->ns[ROLE_NET], l->dir);
		return ETIMEDOUT;
	}
	if (wait_listening(l, ROLE_LAN, LAB_LAN_DNS, 53, 5000) != 0) {
		err_set(err, errlen, "dnsmasq in %s did not start (see %s/dnsmasq-lan.log)",
		        l->ns[ROLE_LAN], l->dir);
		return ETIMEDOUT;
	}
	if (p->proxy_enabled && wait_listening(l, ROLE_LAN, LAB_PROXY, LAB_PROXY_PORT, 5000) != 0) {
		err_set(err, errlen, "tinyproxy in %s did not start (see %s/tinyproxy.log)",
		        l->ns[ROLE_LAN], l->dir);
		return ETIMEDOUT;
	}
	return 0;
}

/* ---- firewall rules, impairments ---- */

int lab_netem_available(void)
{
	static int cached = -1;
	char *argv[] = {"tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms", NULL};
	int rc;

	if (cached >= 0)
		return cached;
	/* Try it for real in a throwaway namespace: the only honest test. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid < 0)
			return 0;
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			if (unshare(CLONE_NEWNET) < 0)
				_exit(2);
			execvp(argv[0], argv);
			_exit(3);
		}
		rc = netns_waitpid(pid, &status, 5000);
		if (rc) {
			kill(pid, SIGKILL);
			(void)netns_waitpid(pid, NULL, -1);
		}
		cached = !rc && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	return cached;
}

int lab_check_profile_kernel(const struct profile *p, char *err, size_t errlen)
{
	for (int k = 0; k < LINK_COUNT; k++)
		if (p->impair[k].set && p->impair[k].delay_ms > 0 && !lab_netem_available()) {
			err_set(err, errlen,
			        "%s: impair (link %s): delay_ms: unsupported on this kernel "
			        "(tc netem is not available: CONFIG_NET_SCH_NETEM is not set); use "
			        "loss_percent and rate, or run on a kernel with netem",
			        p->path, profile_link_name(k));
			return ENOTSUP;
		}
	return 0;
}

/* The two ends of each link: (role, device). The ep link's far end follows the endpoint. */
static void link_ends(const struct fwlab *l, int link, int roles[2], const char *devs[2])
{
	switch (link) {
	case LINK_EP:
		roles[0] = ROLE_EP, devs[0] = "eth0";
		roles[1] = l->outside ? ROLE_OUT : ROLE_LAN, devs[1] = "ep0";
		break;
	case LINK_FW_LAN:
		roles[0] = ROLE_FW, devs[0] = FW_DEV_LAN;
		roles[1] = ROLE_LAN, devs[1] = "fw0";
		break;
	case LINK_FW_WAN:
		roles[0] = ROLE_FW, devs[0] = FW_DEV_WAN;
		roles[1] = ROLE_NET, devs[1] = "fw0";
		break;
	default:
		roles[0] = ROLE_OUT, devs[0] = "net0";
		roles[1] = ROLE_NET, devs[1] = "out0";
		break;
	}
}

/* Rate (tbf) and delay (netem) on the egress of both ends of each link. */
static int apply_qdiscs(struct fwlab *l, const struct profile *p, char *err, size_t errlen)
{
	char batch[ROLE_COUNT][1024] = {{0}};
	json_t *rec = json_object_get(l->st, "qdiscs"), *nrec = json_array();
	int rc = 0;

	for (int k = 0; k < LINK_COUNT; k++) {
		const struct prof_impair *im = &p->impair[k];
		int roles[2];
		const char *devs[2];

		link_ends(l, k, roles, devs);
		for (int e = 0; e < 2; e++) {
			char key[64], *b = batch[roles[e]];
			size_t off = strlen(b);
			int had = 0;
			size_t i;
			json_t *v;

			snprintf(key, sizeof(key), "%s/%s", lab_roles[roles[e]], devs[e]);
			json_array_foreach(rec, i, v) had |= strcmp(json_string_value(v), key) == 0;
			if (im->set && im->delay_ms > 0) {
				off += (size_t)snprintf(
				        b + off, 1024 - off,
				        "qdisc replace dev %s root netem delay %dms", devs[e],
				        im->delay_ms);
				if (im->rate_bps)
					off += (size_t)snprintf(b + off, 1024 - off,
					                        " rate %llubit",
					                        (unsigned long long)im->rate_bps);
				snprintf(b + off, 1024 - off, "\n");
				json_array_append_new(nrec, json_string(key));
			} else if (im->set && im->rate_bps) {
				/* burst: at least 10 full frames or 20 ms of traffic. */
				unsigned long long burst = im->rate_bps / 8 / 50;

				if (burst < 15140)
					burst = 15140;
				snprintf(b + off, 1024 - off,
				         "qdisc replace dev %s root tbf rate %llubit burst %llu "
				         "latency 200ms\n",
				         devs[e], (unsigned long long)im->rate_bps, burst);
				json_array_append_new(nrec, json_string(key));
			} else if (had) {
				snprintf(b + off, 1024 - off, "qdisc del dev %s root\n", devs[e]);
			}
		}
	}
	for (int r = 0; r < ROLE_COUNT && !rc; r++) {
		char out[1024];
		char *argv[] = {"tc", "-batch", "-", NULL};

		if (!batch[r][0])
			continue;
		rc = sys_run(l->nspath[r], argv, batch[r], out, sizeof(out), 10000);
		if (rc) {
			err_set(err, errlen, "tc in %s: %s", l->ns[r],
			        rc < 0 ? strerror(-rc) : out);
			rc = rc < 0 ? -rc : EIO;
		}
	}
	json_object_set_new(l->st, "qdiscs", nrec);
	return rc;
}

/* out's batch: the outside network's filter and the out link's loss, both in one batch.
 * A lab whose profiles never had either leaves out untouched: it forwards everything, as
 * it always has. */
static int apply_out(struct fwlab *l, const struct profile *p, char *err, size_t errlen)
{
	int filter = p->outside.set, impair = nftgen_has_impair(p, "out");
	json_t *b;
	int rc;

	if (!filter && !impair && !json_is_true(json_object_get(l->st, "filter_out")) &&
	    !json_is_true(json_object_get(l->st, "impair_out")))
		return 0;
	b = nftgen_out(p);
	if (!b)
		return ENOMEM;
	rc = run_nft(l, ROLE_OUT, b, err, errlen);
	json_decref(b);
	if (!rc) {
		json_object_set_new(l->st, "filter_out", json_boolean(filter));
		json_object_set_new(l->st, "impair_out", json_boolean(impair));
	}
	return rc;
}

static int apply_rules(struct fwlab *l, const struct profile *p, char *err, size_t errlen)
{
	json_t *b = nftgen_fw(p);
	int rc;

	if (!b)
		return ENOMEM;
	rc = run_nft(l, ROLE_FW, b, err, errlen);
	json_decref(b);
	/* Only touch ep if it has, or had, an impairment table. */
	if (!rc &&
	    (nftgen_has_impair(p, "ep") || json_is_true(json_object_get(l->st, "impair_ep")))) {
		b = nftgen_impair(p, "ep");
		rc = run_nft(l, ROLE_EP, b, err, errlen);
		json_decref(b);
		json_object_set_new(l->st, "impair_ep", json_boolean(nftgen_has_impair(p, "ep")));
	}
	if (!rc)
		rc = apply_out(l, p, err, errlen);
	if (!rc)
		rc = apply_qdiscs(l, p, err, errlen);
	return rc;
}

/* ---- public API ---- */

/* Test hook: FWLAB_TEST_STOP_AFTER=STEP stops the process (SIGSTOP) after that step of up,
 * so the crash test can SIGKILL it at a known point instead of racing a timer. */
static void test_stop_after(const char *step)
{
	const char *want = getenv("FWLAB_TEST_STOP_AFTER");

	if (want && strcmp(want, step) == 0)
		raise(SIGSTOP);
}

static void set_domain(struct fwlab *l, const char *domain)
{
	str_copy(l->domain, domain && hosts_domain_ok(domain) ? domain : HOSTS_DOMAIN_DEFAULT,
	         sizeof(l->domain));
	l->nhosts = hosts_build(l->hosts, HOSTS_MAX, l->domain);
}

static struct fwlab *lab_new(const char *prefix)
{
	struct fwlab *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	lab_init_names(l, prefix);
	return l;
}

static int lab_state_init(struct fwlab *l, const char *profile_path)
{
	json_t *ns = json_array(), *dirs = json_array();
	char ts[40];

	for (int i = 0; i < ROLE_COUNT; i++) {
		char d[160];

		json_array_append_new(ns, json_string(l->ns[i]));
		snprintf(d, sizeof(d), "/etc/netns/%s", l->ns[i]);
		json_array_append_new(dirs, json_string(d));
	}
	json_array_append_new(dirs, json_string(l->dir));
	journal_timestamp(ts, sizeof(ts));
	l->st = json_pack("{s:i, s:s, s:s, s:o, s:{s:i, s:I, s:b}, s:s, s:s, s:o, s:o, s:[], s:[],"
	                  " s:b}",
	                  "version", 1, "prefix", l->prefix, "created", ts, "domain",
	                  json_string(l->domain[0] ? l->domain : HOSTS_DOMAIN_DEFAULT), "owner",
	                  "pid", (int)getpid(), "start", (json_int_t)sys_proc_start(getpid()),
	                  "keeper", 0, "profile", profile_path, "where", "inside", "namespaces", ns,
	                  "dirs", dirs, "pids", "qdiscs", "ready", 0);
	return l->st ? 0 : ENOMEM;
}

int fwlab_up(struct fwlab **lp, const char *profile_path, const char *prefix, char *err,
             size_t errlen)
{
	struct fwlab *l = NULL;
	struct profile *p = NULL;
	char defprefix[16];
	int rc, fd = -1;

	if (!lp || !profile_path)
		return EINVAL;
	if (!prefix) {
		snprintf(defprefix, sizeof(defprefix), "osl%d", (int)getpid());
		prefix = defprefix;
	}
	if (!prefix_ok(prefix)) {
		err_set(err, errlen, "prefix \"%s\": 1-%d characters of a-z, 0-9 and '-'", prefix,
		        FWLAB_PREFIX_MAX);
		return EINVAL;
	}
	rc = profile_load(&p, profile_path, NULL, err, errlen);
	if (rc)
		return rc;
	rc = lab_check_profile_kernel(p, err, errlen);
	if (rc)
		goto fail;
	l = lab_new(prefix);
	if (!l) {
		rc = ENOMEM;
		goto fail;
	}
	set_domain(l, p->domain);
	rc = sys_mkdirs(FWLAB_STATE_DIR, 0755);
	if (rc) {
		err_set(err, errlen, "%s: %s", FWLAB_STATE_DIR, strerror(rc));
		goto fail;
	}
	for (int i = 0; i < ROLE_COUNT; i++)
		if (access(l->nspath[i], F_OK) == 0) {
			err_set(err, errlen,
			        "namespace %s exists already (another lab with prefix %s?)",
			        l->ns[i], prefix);
			rc = EEXIST;
			goto fail;
		}
	/* O_EXCL: two labs can never share a prefix, even if started at the same moment. */
	fd = open(l->state, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = errno;
		err_set(err, errlen, "%s: %s", l->state,
		        rc == EEXIST ? "a lab with this prefix exists already" : strerror(rc));
		goto fail;
	}
	close(fd);
	l->owner = 1;
	rc = lab_state_init(l, p->path);
	if (!rc)
		rc = lab_save(l); /* from here on a crash is collectable by gc */
	if (!rc)
		rc = sys_mkdirs(l->dir, 0755);
	if (rc) {
		err_set(err, errlen, "%s: %s", l->state, strerror(rc));
		goto teardown;
	}
	test_stop_after("state");
	if ((rc = create_namespaces(l, err, errlen)))
		goto teardown;
	test_stop_after("namespaces");
	if ((rc = set_sysctls(l, err, errlen)) || (rc = configure_links(l, err, errlen)) ||
	    (rc = write_resolvs(l, err, errlen)))
		goto teardown;
	test_stop_after("links");
	if ((rc = start_dns(l, err, errlen)) || (rc = start_proxy(l, p, 1, err, errlen)))
		goto teardown;
	test_stop_after("services");
	if ((rc = apply_rules(l, p, err, errlen)))
		goto teardown;
	test_stop_after("rules");
	if ((rc = wait_services(l, p, err, errlen)))
		goto teardown;
	json_object_set_new(l->st, "ready", json_true());
	rc = lab_save(l);
	if (rc)
		goto teardown;
	l->prof = p;
	*lp = l;
	return 0;
teardown:
	remove_lab_doc(l->st, l->state);
	json_decref(l->st);
	l->st = NULL;
	rc = rc ? rc : EIO;
fail:
	profile_free(p);
	free(l);
	return rc;
}

int fwlab_down(struct fwlab *l)
{
	int rc;

	if (!l)
		return 0;
	rc = remove_lab_doc(l->st, l->state);
	fwlab_detach(l);
	return rc;
}

void fwlab_detach(struct fwlab *l)
{
	if (!l)
		return;
	json_decref(l->st);
	profile_free(l->prof);
	free(l);
}

int fwlab_apply(struct fwlab *l, const char *profile_path, char *err, size_t errlen)
{
	struct profile *p = NULL;
	int rc;

	if (!l || !profile_path)
		return EINVAL;
	rc = profile_load(&p, profile_path, l->domain[0] ? l->domain : NULL, err, errlen);
	if (rc)
		return rc;
	rc = lab_check_profile_kernel(p, err, errlen);
	if (!rc)
		rc = apply_rules(l, p, err, errlen);
	if (!rc)
		rc = start_proxy(l, p, 0, err, errlen);
	if (!rc && p->proxy_enabled &&
	    wait_listening(l, ROLE_LAN, LAB_PROXY, LAB_PROXY_PORT, 5000) != 0) {
		err_set(err, errlen, "tinyproxy did not start (see %s/tinyproxy.log)", l->dir);
		rc = ETIMEDOUT;
	}
	if (!rc) {
		json_object_set_new(l->st, "profile", json_string(p->path));
		rc = lab_save(l);
		profile_free(l->prof);
		l->prof = p;
		p = NULL;
	} else {
		lab_save(l);
	}
	profile_free(p);
	return rc;
}

int fwlab_migrate(struct fwlab *l, const char *where)
{
	char b[512], err[1024];
	int out, from, to, rc;

	if (!l || !where)
		return EINVAL;
	if (strcmp(where, "outside") == 0)
		out = 1;
	else if (strcmp(where, "inside") == 0)
		out = 0;
	else
		return EINVAL;
	if (out == l->outside)
		return 0;
	from = out ? ROLE_LAN : ROLE_OUT;
	to = out ? ROLE_OUT : ROLE_LAN;
	/* Like a laptop leaving the office: the cable (eth0's peer) is pulled from one router
	 * and plugged into the other. eth0 keeps its name and ifindex; its carrier drops, the
	 * old address and route go, the new ones come. */
	rc = run_ip_batch(l, ROLE_EP, "addr flush dev eth0\n", err, sizeof(err));
	if (!rc) {
		snprintf(b, sizeof(b), "link set ep0 down\n%slink set ep0 netns %s\n",
		         from == ROLE_LAN ? "link set ep0 nomaster\n" : "", l->ns[to]);
		rc = run_ip_batch(l, from, b, err, sizeof(err));
	}
	if (!rc) {
		if (to == ROLE_OUT)
			snprintf(b, sizeof(b),
			         "addr add " LAB_OUT_EP "/24 dev ep0\nlink set ep0 up\n");
		else
			snprintf(b, sizeof(b), "link set ep0 master br0\nlink set ep0 up\n");
		rc = run_ip_batch(l, to, b, err, sizeof(err));
	}
	if (!rc) {
		snprintf(b, sizeof(b), "addr add %s/24 dev eth0\nroute add default via %s\n",
		         out ? LAB_EP_OUTSIDE : LAB_EP_INSIDE, out ? LAB_OUT_EP : LAB_FW_LAN);
		rc = run_ip_batch(l, ROLE_EP, b, err, sizeof(err));
	}
	if (!rc)
		rc = write_resolv(l, ROLE_EP, out ? LAB_NET_DNS : LAB_LAN_DNS);
	if (rc) {
		log_warnx("migrate %s: %s", where, err);
		return rc;
	}
	l->outside = out;
	json_object_set_new(l->st, "where", json_string(where));
	/* The moved end lost its queueing discipline; put the link's rate back. */
	if (l->prof) {
		json_t *rec = json_object_get(l->st, "qdiscs"), *v;
		size_t i;

		json_array_foreach(rec, i, v)
		{
			if (strstr(json_string_value(v), "/ep0")) {
				json_array_remove(rec, i);
				i--;
			}
		}
		rc = apply_qdiscs(l, l->prof, err, sizeof(err));
		if (rc)
			log_warnx("migrate %s: %s", where, err);
	}
	return lab_save(l) ? EIO : rc;
}

const char *fwlab_prefix(const struct fwlab *l)
{
	return l ? l->prefix : NULL;
}

const char *fwlab_netns(const struct fwlab *l, const char *role)
{
	int r = lab_role(role);

	return l && r >= 0 ? l->nspath[r] : NULL;
}

const char *fwlab_host_addr(const struct fwlab *l, const char *host)
{
	const struct lab_host *h;

	if (!l)
		return NULL;
	h = hosts_find(l->hosts, l->nhosts, host);
	return h ? h->addr : NULL;
}

const char *fwlab_where(const struct fwlab *l)
{
	return l && l->outside ? "outside" : "inside";
}

const char *fwlab_state_path(const struct fwlab *l)
{
	return l ? l->state : NULL;
}

int fwlab_spawn(struct fwlab *l, const char *role, char *const argv[], int out_fd, int err_fd,
                pid_t *pidp)
{
	struct netns_spawn_opts o = {-1, out_fd, err_fd, NULL, 0};
	int r = lab_role(role), rc;

	if (!l || r < 0 || !argv || !argv[0] || !pidp)
		return EINVAL;
	rc = netns_spawn(l->nspath[r], argv, &o, pidp);
	if (rc)
		return rc;
	return lab_record_pid(l, *pidp, argv[0]);
}

static int set_owner(struct fwlab *l, pid_t pid, int keeper)
{
	if (!l)
		return EINVAL;
	json_object_set_new(l->st, "owner",
	                    json_pack("{s:i, s:I, s:b}", "pid", (int)pid, "start",
	                              (json_int_t)sys_proc_start(pid), "keeper", keeper));
	return lab_save(l);
}

int fwlab_set_owner(struct fwlab *l, pid_t pid)
{
	/* Someone else's process (a runner's parent, a shell): gc watches it, down never
	 * signals it. */
	return set_owner(l, pid, 0);
}

int lab_set_keeper(struct fwlab *l, pid_t pid)
{
	return set_owner(l, pid, 1);
}

static int load_state(const char *path, json_t **stp, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *st = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (!st) {
		err_set(err, errlen, "%s: %s", path, jerr.text);
		return errno == ENOENT ? ENOENT : EINVAL;
	}
	if (!json_is_string(json_object_get(st, "prefix")) ||
	    !prefix_ok(json_string_value(json_object_get(st, "prefix"))) ||
	    !json_is_array(json_object_get(st, "namespaces"))) {
		err_set(err, errlen, "%s: not a lab state file", path);
		json_decref(st);
		return EINVAL;
	}
	*stp = st;
	return 0;
}

/* Lists the state files' prefixes; returns how many (at most cap). */
static size_t list_labs(char names[][FWLAB_PREFIX_MAX + 1], size_t cap)
{
	DIR *d = opendir(FWLAB_STATE_DIR);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < cap) {
		size_t len = strlen(e->d_name);

		if (len > 5 && len - 5 <= FWLAB_PREFIX_MAX &&
		    strcmp(e->d_name + len - 5, ".json") == 0) {
			memcpy(names[n], e->d_name, len - 5);
			names[n][len - 5] = '\0';
			if (prefix_ok(names[n]))
				n++;
		}
	}
	closedir(d);
	return n;
}

int fwlab_attach(struct fwlab **lp, const char *prefix, char *err, size_t errlen)
{
	char names[64][FWLAB_PREFIX_MAX + 1];
	struct fwlab *l;
	const char *prof;
	int rc;

	if (!lp)
		return EINVAL;
	if (!prefix) {
		size_t n = list_labs(names, 64);

		if (n == 0) {
			err_set(err, errlen, "no lab is running (no state in %s)", FWLAB_STATE_DIR);
			return ENOENT;
		}
		if (n > 1) {
			char list[256] = "";
			size_t off = 0;

			for (size_t i = 0; i < n && off < sizeof(list); i++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, " %s",
				                        names[i]);
			err_set(err, errlen, "%zu labs are running (%s ): say which with --prefix",
			        n, list);
			return EEXIST;
		}
		prefix = names[0];
	}
	if (!prefix_ok(prefix)) {
		err_set(err, errlen, "prefix \"%s\" is not valid", prefix);
		return EINVAL;
	}
	l = lab_new(prefix);
	if (!l)
		return ENOMEM;
	rc = load_state(l->state, &l->st, err, errlen);
	if (rc) {
		if (rc == ENOENT)
			err_set(err, errlen, "no lab with prefix %s", prefix);
		free(l);
		return rc;
	}
	set_domain(l, json_string_value(json_object_get(l->st, "domain")));
	l->outside =
	        strcmp(json_string_value(json_object_get(l->st, "where")) ?: "", "outside") == 0;
	prof = json_string_value(json_object_get(l->st, "profile"));
	if (prof && profile_load(&l->prof, prof, l->domain, NULL, 0) != 0)
		l->prof = NULL;
	*lp = l;
	return 0;
}

/* Removes "PREFIX.json.PID.tmp" files whose writer is gone (killed between lab_save's write and
 * its rename). A name of another shape is left to a person. */
static size_t gc_tmp_files(char *report, size_t len, size_t off)
{
	DIR *d = opendir(FWLAB_STATE_DIR);
	struct dirent *e;

	if (!d)
		return off;
	while ((e = readdir(d))) {
		const char *dot = strstr(e->d_name, ".json.");
		char path[1024], *end = NULL;
		long pid;

		if (!dot)
			continue;
		errno = 0;
		pid = strtol(dot + 6, &end, 10);
		if (errno || pid <= 0 || !end || strcmp(end, ".tmp") != 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FWLAB_STATE_DIR, e->d_name);
		if (unlink(path) == 0 && report && off < len)
			off += (size_t)snprintf(report + off, len - off,
			                        "removed %s (its writer, pid %ld, is gone)\n", path,
			                        pid);
	}
	closedir(d);
	return off;
}

int fwlab_gc(char *report, size_t len)
{
	char names[64][FWLAB_PREFIX_MAX + 1];
	size_t n = list_labs(names, 64), off = 0;
	int rc = 0;

	if (report && len)
		report[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char path[1024], err[256];
		json_t *st = NULL, *o;
		pid_t pid;
		unsigned long long start;
		int r;

		snprintf(path, sizeof(path), "%s/%s.json", FWLAB_STATE_DIR, names[i]);
		if (load_state(path, &st, err, sizeof(err)) != 0) {
			/* A state file cut short is only possible mid-write, which rename rules out:
			 * leave anything unreadable to a person. */
			continue;
		}
		o = json_object_get(st, "owner");
		pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
		start = (unsigned long long)json_integer_value(json_object_get(o, "start"));
		if (sys_proc_alive(pid, start)) {
			json_decref(st);
			continue;
		}
		r = remove_lab_doc(st, path);
		if (report && off < len)
			off += (size_t)snprintf(report + off, len - off,
			                        "removed lab %s (owner pid %d is gone)%s\n",
			                        names[i], (int)pid, r ? ": partly" : "");
		rc = rc ? rc : r;
		json_decref(st);
	}
	gc_tmp_files(report, len, off);
	return rc;
}

int fwlab_available(char *why, size_t len)
{
	static const char *const tools[] = {"ip", "nft", "dnsmasq", "tinyproxy", "tc"};
	char *path = getenv("PATH");

	if (geteuid() != 0) {
		err_set(why, len,
		        "not root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN");
		return EPERM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		char buf[4096], *save = NULL, *dir;
		int found = 0;

		str_copy(buf, path ? path : "/usr/sbin:/usr/bin:/sbin:/bin", sizeof(buf));
		for (dir = strtok_r(buf, ":", &save); dir && !found;
		     dir = strtok_r(NULL, ":", &save)) {
			char p[PATH_MAX];

			snprintf(p, sizeof(p), "%s/%s", dir, tools[i]);
			found = access(p, X_OK) == 0;
		}
		if (!found) {
			err_set(why, len, "%s is not installed (scripts/setup installs it)",
			        tools[i]);
			return ENOENT;
		}
	}
	/* Can this process make a namespace at all (containers often forbid it)? */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid < 0)
			return errno;
		if (pid == 0)
			_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
		if (netns_waitpid(pid, &status, 5000) != 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			err_set(why, len, "unshare(CLONE_NEWNET) is not permitted here");
			return EPERM;
		}
	}
	if (sys_mkdirs("/run/netns", 0755) != 0 || access("/run/netns", W_OK) != 0) {
		err_set(why, len, "/run/netns is not writable");
		return EACCES;
	}
	return 0;
}
