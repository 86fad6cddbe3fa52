/* capset.c - a scenario's captures: one per lab link, stopped and converted to pcapng with
 * every TLS key log embedded. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "capture.h"
#include "fwlab.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- captures ------------------------------------------------------------------------------ */

/* The links captured: the endpoint's interface, and the interfaces holding a plan host's
 * address (iface NULL: the one with the address of host). */
static const struct {
	const char *name, *role, *iface, *host;
} links[] = {
        {"ep", "ep", "eth0", NULL},
        {"fw-lan", "fw", NULL, "fw-lan"},
        {"fw-wan", "fw", NULL, "fw-wan"},
        {"proxy", "lan", NULL, "proxy.corp.example"},
};

int scen_captures_start(struct scen *s)
{
	char err[512], path[PATH_MAX], iface[64];

	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		const char *addr = links[i].host ? scen_plan_addr(links[i].host) : NULL;

		if (links[i].host && !addr) {
			scen_harness(s, V_ERROR, "capture %s: host %s is not in the lab plan",
			             links[i].name, links[i].host);
			return ENOENT;
		}
		snprintf(iface, sizeof(iface), "%s%s", addr ? "addr:" : "", addr ?: links[i].iface);
		scen_pathf(path, sizeof(path), "%s/%s.pcap", s->dir, links[i].name);
		int e = capture_start(&s->cap[s->ncap], links[i].name,
		                      fwlab_netns(s->lab, links[i].role), iface, path, err,
		                      sizeof(err));
		if (e) {
			scen_harness(s, V_ERROR, "%s", err);
			return e;
		}
		s->ncap++;
	}
	return 0;
}

static int run_cmd(char *const argv[], const char *log_path)
{
	pid_t pid = fork();
	int status = 0;

	if (pid < 0)
		return errno;
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EIO;
}

/* Joins every key log of the scenario into keys.log (what editcap embeds). */
static int join_keylogs(struct scen *s, char *out, size_t len)
{
	static const char *const names[] = {"mock-oam",        "mock-sip",      "mock-sip-private",
	                                    "mock-sip-public", "mock-teamlink", "endpoint"};
	char path[PATH_MAX];
	FILE *o;
	long total = 0;

	scen_pathf(out, len, "%s/keys.log", s->dir);
	o = fopen(out, "w");
	if (!o)
		return errno;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char line[1024];
		scen_pathf(path, sizeof(path), "%s/keys/%s.keys", s->dir, names[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			fputs(line, o);
			total++;
		}
		fclose(f);
	}
	fclose(o);
	return total ? 0 : ENOENT;
}

void scen_captures_stop(struct scen *s, json_t *artifacts)
{
	char keys[PATH_MAX], err[256], ng[PATH_MAX], log[PATH_MAX];
	int have_keys = !join_keylogs(s, keys, sizeof(keys));

	scen_pathf(log, sizeof(log), "%s/editcap.log", s->dir);
	for (size_t i = 0; i < s->ncap; i++) {
		char pcap[PATH_MAX], name[32];
		snprintf(pcap, sizeof(pcap), "%s", capture_path(s->cap[i]));
		snprintf(name, sizeof(name), "%s", capture_name(s->cap[i]));
		long n = capture_stop(s->cap[i], err, sizeof(err));
		s->cap[i] = NULL;
		if (n < 0) {
			scen_harness(s, V_ERROR, "%s", err);
			continue;
		}
		scen_pathf(ng, sizeof(ng), "%s/%s.pcapng", s->dir, name);
		char *argv_keys[] = {
		        "editcap", "--inject-secrets", "tls,", "-F", "pcapng", pcap, ng, NULL};
		char secrets[PATH_MAX + 8];
		snprintf(secrets, sizeof(secrets), "tls,%s", keys);
		argv_keys[2] = secrets;
		char *argv_plain[] = {"editcap", "-F", "pcapng", pcap, ng, NULL};
		/* editcap turns an empty capture into a pcapng without an interface block,
		 * which readers refuse: an empty capture stays classic pcap. */
		if (n == 0 || run_cmd(have_keys ? argv_keys : argv_plain, log)) {
			/* Keep the classic pcap: still readable, only without the secrets. */
			json_array_append_new(artifacts,
			                      json_pack("{s:s,s:s,s:s+,s:I}", "kind", "capture",
			                                "name", name, "path", name, ".pcap",
			                                "packets", (json_int_t)n));
			continue;
		}
		unlink(pcap);
		json_array_append_new(artifacts,
		                      json_pack("{s:s,s:s,s:s+,s:I}", "kind", "capture", "name",
		                                name, "path", name, ".pcapng", "packets",
		                                (json_int_t)n));
	}
	s->ncap = 0;
}
