/* status.c - status and rules output. */
#include "status.h"
#include "hosts.h"
#include "lab_int.h"
#include "nftgen.h"
#include "sys.h"

#include "onsight/netns.h"
#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

static json_t *ns_json(struct fwlab *l, int r)
{
	char out[8192], cmd[512];
	char *argv[] = {"ip", "-br", "addr", NULL};
	unsigned long long ino = netns_inode(l->nspath[r]);
	pid_t pids[64];
	size_t n;
	json_t *procs = json_array(), *addrs = json_array();

	if (sys_run(l->nspath[r], argv, NULL, out, sizeof(out), 5000) == 0) {
		char *save = NULL;

		for (char *line = strtok_r(out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_array_append_new(addrs, json_string(line));
	}
	n = ino ? sys_procs_in_netns(&ino, 1, pids, ARRAY_SIZE(pids)) : 0;
	for (size_t i = 0; i < n; i++) {
		cmdline(pids[i], cmd, sizeof(cmd));
		json_array_append_new(procs,
		                      json_pack("{s:i, s:s}", "pid", (int)pids[i], "cmd", cmd));
	}
	return json_pack("{s:s, s:b, s:o, s:o}", "name", l->ns[r], "exists", ino != 0, "addresses",
	                 addrs, "processes", procs);
}

int status_print(struct fwlab *l, FILE *f, int json)
{
	char rules[65536];
	char *argv_txt[] = {"nft", "list", "ruleset", NULL};
	char *argv_json[] = {"nft", "-j", "list", "ruleset", NULL};
	const json_t *owner = json_object_get(l->st, "owner");
	pid_t opid = (pid_t)json_integer_value(json_object_get(owner, "pid"));
	int alive = sys_proc_alive(
	        opid, (unsigned long long)json_integer_value(json_object_get(owner, "start")));
	json_t *nss = json_object();
	int rc;

	for (int r = 0; r < ROLE_COUNT; r++)
		json_object_set_new(nss, lab_roles[r], ns_json(l, r));
	rc = sys_run(l->nspath[ROLE_FW], json ? argv_json : argv_txt, NULL, rules, sizeof(rules),
	             5000);
	if (json) {
		json_t *doc =
		        json_pack("{s:s, s:{s:i, s:b}, s:s?, s:s, s:s, s:o, s:o}", "prefix",
		                  l->prefix, "owner", "pid", (int)opid, "alive", alive, "profile",
		                  json_string_value(json_object_get(l->st, "profile")), "where",
		                  fwlab_where(l), "state", l->state, "namespaces", nss, "ruleset",
		                  rc == 0 ? json_loads(rules, 0, NULL) : json_null());

		json_dumpf(doc, f, JSON_INDENT(2));
		fputc('\n', f);
		json_decref(doc);
		return 0;
	}
	fprintf(f, "lab %s  owner pid %d (%s)  endpoint %s\nprofile %s\nstate %s\n\n", l->prefix,
	        (int)opid, alive ? "alive" : "gone: `mock-firewall gc` removes this lab",
	        fwlab_where(l), json_string_value(json_object_get(l->st, "profile")) ?: "?",
	        l->state);
	for (int r = 0; r < ROLE_COUNT; r++) {
		const json_t *n = json_object_get(nss, lab_roles[r]), *e;
		size_t i;

		fprintf(f, "[%s] %s%s\n", lab_roles[r], l->ns[r],
		        json_is_true(json_object_get(n, "exists")) ? "" : "  (missing!)");
		json_array_foreach(json_object_get(n, "addresses"), i, e)
		{
			fprintf(f, "    %s\n", json_string_value(e));
		}
		json_array_foreach(json_object_get(n, "processes"), i, e)
		{
			fprintf(f, "    pid %-7d %s\n",
			        (int)json_integer_value(json_object_get(e, "pid")),
			        json_string_value(json_object_get(e, "cmd")));
		}
	}
	fprintf(f, "\n[fw] live ruleset (with counters):\n%s", rc == 0 ? rules : "(unavailable)\n");
	if (json_is_true(json_object_get(l->st, "filter_out"))) {
		rc = sys_run(l->nspath[ROLE_OUT], argv_txt, NULL, rules, sizeof(rules), 5000);
		fprintf(f, "\n[out] outside network filter, live (with counters):\n%s",
		        rc == 0 ? rules : "(unavailable)\n");
	}
	json_decref(nss);
	return 0;
}

static void print_profile_words(const struct profile *p, FILE *f)
{
	static const char *const pol[] = {"drop", "accept", "reject"};

	fprintf(f, "# profile %s\n", p->path);
	if (p->description[0]) {
		char d[sizeof(p->description)], *save = NULL;

		str_copy(d, p->description, sizeof(d));
		for (char *line = strtok_r(d, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			fprintf(f, "#   %s\n", line);
	}
	fprintf(f, "# policy %s, NAT %s, log drops %s\n", pol[p->policy], p->nat ? "on" : "off",
	        p->log ? "on" : "off");
	if (p->proxy_enabled) {
		fprintf(f, "# proxy %s:%d allows", LAB_PROXY, LAB_PROXY_PORT);
		for (size_t i = 0; i < p->nproxy_allow; i++)
			fprintf(f, " %s", p->proxy_allow[i]);
		fprintf(f, "; CONNECT to ports");
		for (size_t i = 0; i < p->nconnect_ports; i++)
			fprintf(f, " %u", p->connect_ports[i]);
		fprintf(f, "\n");
	} else {
		fprintf(f, "# proxy: none\n");
	}
	if (p->outside.set)
		fprintf(f, "# outside network %s: policy %s, %zu rules, log drops %s%s%s\n",
		        LAB_OUT_CIDR, pol[p->outside.policy], p->outside.nrules,
		        p->outside.log ? "on" : "off", p->outside.comment[0] ? "; " : "",
		        p->outside.comment);
	else
		fprintf(f, "# outside network %s: unfiltered\n", LAB_OUT_CIDR);
	for (int k = 0; k < LINK_COUNT; k++) {
		const struct prof_impair *im = &p->impair[k];

		if (!im->set)
			continue;
		fprintf(f, "# link %s: loss %d%%, rate %s%llu bit/s, delay %d ms\n",
		        profile_link_name(k), im->loss, im->rate_bps ? "" : "unlimited ",
		        (unsigned long long)im->rate_bps, im->delay_ms);
	}
}

/* Loads batch into a throwaway namespace of its own and lists it there, into out. 0, or
 * EINVAL with nft's complaint in out. */
static int list_in_scratch(json_t *batch, char *out, size_t outlen)
{
	char tmpl[] = "/tmp/fwlab-rules-XXXXXX";
	int fd, rc = 0;
	pid_t pid;
	int pfd[2];

	out[0] = '\0';
	fd = mkstemp(tmpl);
	if (fd < 0)
		return errno;
	close(fd);
	if (json_dump_file(batch, tmpl, 0) != 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		unlink(tmpl);
		return EIO;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* A namespace of our own, thrown away on exit: load the batch, list it. */
		char *load[] = {"nft", "-j", "-f", tmpl, NULL};
		char *list[] = {"nft", "list", "ruleset", NULL};
		int st = 0;
		pid_t c;

		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (unshare(CLONE_NEWNET) < 0) {
			printf("cannot make a scratch namespace (not root?): %s\n",
			       strerror(errno));
			_exit(3);
		}
		/* nft needs the devices the netdev chains name. */
		{
			char *mk[] = {"ip", "-batch", "-", NULL};
			char text[] = "link add " FW_DEV_LAN " type dummy\n"
			              "link add " FW_DEV_WAN " type dummy\n"
			              "link add " OUT_DEV_NET " type dummy\n";

			(void)sys_run(NULL, mk, text, NULL, 0, 5000);
		}
		c = fork();
		if (c == 0) {
			execvp(load[0], load);
			_exit(127);
		}
		waitpid(c, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(4);
		execvp(list[0], list);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		unlink(tmpl);
		return errno;
	}
	{
		size_t used = 0;
		ssize_t n;

		while ((n = read(pfd[0], out + used, outlen - 1 - used)) > 0)
			used += (size_t)n;
		out[used] = '\0';
	}
	close(pfd[0]);
	{
		int st = 0;

		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = EINVAL;
	}
	unlink(tmpl);
	return rc;
}

int status_rules_text(const struct profile *p, json_t *fw, json_t *out_batch, FILE *f, char *err,
                      size_t errlen)
{
	static char out[65536];
	int rc;

	print_profile_words(p, f);
	rc = list_in_scratch(fw, out, sizeof(out));
	if (rc) {
		snprintf(err, errlen, "nft rejected the ruleset of %s: %s", p->path, out);
		return rc;
	}
	fprintf(f, "# [fw] the enterprise firewall\n%s", out);
	if (!out_batch)
		return 0;
	rc = list_in_scratch(out_batch, out, sizeof(out));
	if (rc) {
		snprintf(err, errlen, "nft rejected the outside ruleset of %s: %s", p->path, out);
		return rc;
	}
	fprintf(f,
	        "\n# [out] the router in front of the outside endpoint network " LAB_OUT_CIDR
	        "\n%s",
	        out);
	return 0;
}
