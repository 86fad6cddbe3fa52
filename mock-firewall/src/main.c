/* mock-firewall - the network lab's command line (docs/man/mock-firewall.1, docs/lab.md).
 * A thin layer over fwlab.h: every command is one function of the name table below. */
#define LOG_TAG "main"
#include "fwlab.h"
#include "hosts.h"
#include "lab_int.h"
#include "nftgen.h"
#include "profile.h"
#include "status.h"

#include "onsight/log.h"
#include "onsight/netns.h"
#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Exit codes: 0 ok, 1 the operation failed, 2 usage, 3 the lab cannot run here. */
enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_UNAVAILABLE = 3 };

struct opts {
	const char *prefix;
	int json, foreground;
	long count, seconds;
	char *pos[8];
	int npos;
	char **rest; /* after "--" */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mock-firewall COMMAND [ARGS] [--prefix P]\n"
	        "  up PROFILE [--prefix P] [--foreground]   create a lab (default prefix "
	        "osl<pid>)\n"
	        "  down                       remove the lab (exactly what up created)\n"
	        "  gc                         remove labs whose owner process died\n"
	        "  status [--json]            namespaces, addresses, rule counters, processes\n"
	        "  rules PROFILE [--json]     print the nftables rulesets a profile compiles to "
	        "(fw;\n"
	        "                             out too if it has an outside section)\n"
	        "  apply PROFILE              swap the running lab's rules/proxy/impairments\n"
	        "  exec ROLE -- CMD...        run CMD in a namespace (ep fw lan net out)\n"
	        "  migrate inside|outside     move the endpoint behind / out of the firewall\n"
	        "  capture ROLE IFACE FILE [--count N] [--seconds S]   write a pcap\n"
	        "  plan [--json]              print the lab address plan (host, address, "
	        "namespace)\n"
	        "PROFILE is a path or a name in mock-firewall/profiles (open, s1, s2-inside, s3,\n"
	        "s4, https-only, http-only, customer-*). Commands other than up, gc, rules and\n"
	        "plan act on the lab given by --prefix, or on the only running lab.\n"
	        "See mock-firewall(1) and docs/lab.md.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			o->rest = &argv[i + 1];
			return 0;
		} else if (strcmp(a, "--prefix") == 0 && i + 1 < argc) {
			o->prefix = argv[++i];
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (strcmp(a, "--foreground") == 0) {
			o->foreground = 1;
		} else if (strcmp(a, "--count") == 0 && i + 1 < argc) {
			o->count = atol(argv[++i]);
		} else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
			o->seconds = atol(argv[++i]);
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "mock-firewall: unknown option %s\n", a);
			return -1;
		} else if (o->npos < (int)ARRAY_SIZE(o->pos)) {
			o->pos[o->npos++] = argv[i];
		} else {
			fprintf(stderr, "mock-firewall: too many arguments\n");
			return -1;
		}
	}
	return 0;
}

static int need_root(void)
{
	char why[256];

	if (fwlab_available(why, sizeof(why)) != 0) {
		fprintf(stderr, "mock-firewall: the lab cannot run here: %s\n", why);
		return -1;
	}
	return 0;
}

static int attach(struct opts *o, struct fwlab **lp)
{
	char err[512];

	if (fwlab_attach(lp, o->prefix, err, sizeof(err)) != 0) {
		fprintf(stderr, "mock-firewall: %s\n", err);
		return -1;
	}
	return 0;
}

/* The keeper: a process that does nothing but exist, so the lab outlives the CLI and gc
 * can tell a lab someone still wants from one whose creator crashed. */
static pid_t start_keeper(const char *prefix)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	setsid();
	/* Pin nothing: not the caller's directory, not its terminal. */
	if (chdir("/") != 0)
		_exit(1);
	{
		char name[16];
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		snprintf(name, sizeof(name), "fwlab-%s", prefix);
		prctl(PR_SET_NAME, name);
	}
	for (;;)
		pause();
}

static volatile sig_atomic_t stop_flag;
static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int cmd_up(struct opts *o)
{
	struct fwlab *l = NULL;
	char err[1024];
	int rc;

	if (o->npos != 1)
		return (usage(stderr), EX_USAGE);
	if (need_root())
		return EX_UNAVAILABLE;
	rc = fwlab_up(&l, o->pos[0], o->prefix, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mock-firewall: up: %s\n", err);
		return EX_FAIL;
	}
	printf("lab %s is up (profile %s); endpoint inside at 198.51.100.10\n"
	       "namespaces: %s-ep %s-fw %s-lan %s-net %s-out\nstate: %s\n",
	       fwlab_prefix(l), l->prof->path, fwlab_prefix(l), fwlab_prefix(l), fwlab_prefix(l),
	       fwlab_prefix(l), fwlab_prefix(l), fwlab_state_path(l));
	if (o->foreground) {
		struct sigaction sa = {0};

		sa.sa_handler = on_stop;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		printf("running in the foreground: Ctrl-C removes the lab\n");
		fflush(stdout);
		while (!stop_flag)
			pause();
		return fwlab_down(l) ? EX_FAIL : EX_OK;
	}
	rc = lab_set_keeper(l, start_keeper(fwlab_prefix(l)));
	fwlab_detach(l);
	return rc ? EX_FAIL : EX_OK;
}

static int cmd_down(struct opts *o)
{
	struct fwlab *l;
	char prefix[FWLAB_PREFIX_MAX + 1];

	if (o->npos != 0)
		return (usage(stderr), EX_USAGE);
	if (need_root())
		return EX_UNAVAILABLE;
	if (attach(o, &l))
		return EX_FAIL;
	str_copy(prefix, fwlab_prefix(l), sizeof(prefix));
	if (fwlab_down(l) != 0) {
		fprintf(stderr, "mock-firewall: down %s: some parts could not be removed\n",
		        prefix);
		return EX_FAIL;
	}
	printf("lab %s removed\n", prefix);
	return EX_OK;
}

static int cmd_gc(struct opts *o)
{
	char report[4096];
	int rc;

	if (o->npos != 0)
		return (usage(stderr), EX_USAGE);
	if (need_root())
		return EX_UNAVAILABLE;
	rc = fwlab_gc(report, sizeof(report));
	fputs(report[0] ? report : "nothing to collect\n", stdout);
	return rc ? EX_FAIL : EX_OK;
}

/* The address plan needs no lab and no root: it is the table every lab is built from. */
static int cmd_plan(struct opts *o)
{
	struct lab_host tab[HOSTS_MAX];
	size_t n = hosts_plan(tab, HOSTS_MAX, NULL);
	json_t *j;

	if (o->npos != 0)
		return (usage(stderr), EX_USAGE);
	if (!n)
		return EX_FAIL;
	if (!o->json) {
		printf("%-30s %-15s %-4s %s\n", "HOST", "ADDRESS", "NS", "WHAT");
		for (size_t i = 0; i < n; i++)
			printf("%-30s %-15s %-4s %s\n", tab[i].name, tab[i].addr, tab[i].ns,
			       tab[i].what);
		return EX_OK;
	}
	j = hosts_plan_json(tab, n);
	if (!j || json_dumpf(j, stdout, JSON_INDENT(2)))
		n = 0;
	json_decref(j);
	putchar('\n');
	return n ? EX_OK : EX_FAIL;
}

static int cmd_status(struct opts *o)
{
	struct fwlab *l;
	int rc;

	if (o->npos != 0)
		return (usage(stderr), EX_USAGE);
	if (attach(o, &l))
		return EX_FAIL;
	rc = status_print(l, stdout, o->json);
	fwlab_detach(l);
	return rc ? EX_FAIL : EX_OK;
}

static int cmd_rules(struct opts *o)
{
	struct profile *p = NULL;
	char err[1024];
	json_t *b, *ob;
	int rc;

	if (o->npos != 1)
		return (usage(stderr), EX_USAGE);
	if (profile_load(&p, o->pos[0], NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "mock-firewall: %s\n", err);
		return EX_FAIL;
	}
	/* A profile this kernel cannot run is reported here too, not only at up. */
	if (geteuid() == 0 && lab_check_profile_kernel(p, err, sizeof(err)) != 0) {
		fprintf(stderr, "mock-firewall: %s\n", err);
		profile_free(p);
		return EX_FAIL;
	}
	b = nftgen_fw(p);
	ob = p->outside.set ? nftgen_out(p) : NULL;
	if (o->json || geteuid() != 0) {
		if (!o->json)
			printf("# (not root: no scratch namespace to list the rules in nft's "
			       "syntax;\n"
			       "#  this is the nftables JSON batch the lab applies%s)\n",
			       ob ? " in fw, then out's" : "");
		/* With an outside section: {"fw": batch, "out": batch}. */
		if (ob)
			b = json_pack("{s:o, s:O}", "fw", b, "out", ob);
		json_dumpf(b, stdout, JSON_INDENT(2));
		putchar('\n');
		rc = 0;
	} else {
		rc = status_rules_text(p, b, ob, stdout, err, sizeof(err));
		if (rc)
			fprintf(stderr, "mock-firewall: %s\n", err);
	}
	json_decref(ob);
	json_decref(b);
	profile_free(p);
	return rc ? EX_FAIL : EX_OK;
}

static int cmd_apply(struct opts *o)
{
	struct fwlab *l;
	char err[1024];
	int rc;

	if (o->npos != 1)
		return (usage(stderr), EX_USAGE);
	if (need_root())
		return EX_UNAVAILABLE;
	if (attach(o, &l))
		return EX_FAIL;
	rc = fwlab_apply(l, o->pos[0], err, sizeof(err));
	if (rc)
		fprintf(stderr, "mock-firewall: apply: %s (the previous rules stay)\n", err);
	else
		printf("lab %s: profile %s applied\n", fwlab_prefix(l), l->prof->path);
	fwlab_detach(l);
	return rc ? EX_FAIL : EX_OK;
}

static int cmd_exec(struct opts *o)
{
	struct fwlab *l;
	const char *path;
	int rc;

	if (o->npos != 1 || !o->rest || !o->rest[0])
		return (usage(stderr), EX_USAGE);
	if (attach(o, &l))
		return EX_FAIL;
	path = fwlab_netns(l, o->pos[0]);
	if (!path) {
		fprintf(stderr, "mock-firewall: unknown role %s (ep fw lan net out)\n", o->pos[0]);
		fwlab_detach(l);
		return EX_USAGE;
	}
	rc = netns_exec(path, o->rest);
	fprintf(stderr, "mock-firewall: exec %s: %s\n", o->rest[0], strerror(rc));
	fwlab_detach(l);
	return 127;
}

static int cmd_migrate(struct opts *o)
{
	struct fwlab *l;
	int rc;

	if (o->npos != 1 || (strcmp(o->pos[0], "inside") && strcmp(o->pos[0], "outside")))
		return (usage(stderr), EX_USAGE);
	if (need_root())
		return EX_UNAVAILABLE;
	if (attach(o, &l))
		return EX_FAIL;
	rc = fwlab_migrate(l, o->pos[0]);
	if (rc)
		fprintf(stderr, "mock-firewall: migrate: %s\n", strerror(rc));
	else
		printf("lab %s: endpoint is %s (%s)\n", fwlab_prefix(l), o->pos[0],
		       strcmp(o->pos[0], "outside") == 0 ? "192.0.2.10 via 192.0.2.1"
		                                         : "198.51.100.10 via 198.51.100.1");
	fwlab_detach(l);
	return rc ? EX_FAIL : EX_OK;
}

static int cmd_capture(struct opts *o)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct fwlab *l;
	pcap_t *pc = NULL;
	pcap_dumper_t *d = NULL;
	const char *path;
	struct sigaction sa = {0};
	long n = 0;
	time_t t0 = time(NULL);
	int rc = EX_FAIL, err;

	if (o->npos != 3)
		return (usage(stderr), EX_USAGE);
	if (attach(o, &l))
		return EX_FAIL;
	path = fwlab_netns(l, o->pos[0]);
	if (!path) {
		fprintf(stderr, "mock-firewall: unknown role %s\n", o->pos[0]);
		goto out;
	}
	/* The capture socket belongs to the namespace it is opened in (LIBRARY-NOTES). */
	err = netns_enter(path, NULL);
	if (err) {
		fprintf(stderr, "mock-firewall: %s: %s\n", path, strerror(err));
		goto out;
	}
	pc = pcap_create(o->pos[1], ebuf);
	if (!pc || pcap_set_immediate_mode(pc, 1) || pcap_set_snaplen(pc, 65535) ||
	    pcap_set_timeout(pc, 200) || pcap_activate(pc) < 0) {
		fprintf(stderr, "mock-firewall: capture %s: %s\n", o->pos[1],
		        pc ? pcap_geterr(pc) : ebuf);
		goto out;
	}
	d = pcap_dump_open(pc, o->pos[2]);
	if (!d) {
		fprintf(stderr, "mock-firewall: %s: %s\n", o->pos[2], pcap_geterr(pc));
		goto out;
	}
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "capturing on %s in %s to %s (Ctrl-C stops)\n", o->pos[1], path, o->pos[2]);
	while (!stop_flag && (o->count <= 0 || n < o->count) &&
	       (o->seconds <= 0 || time(NULL) - t0 < o->seconds)) {
		int k = pcap_dispatch(pc, o->count > 0 ? (int)(o->count - n) : -1, pcap_dump,
		                      (u_char *)d);

		if (k < 0 && !stop_flag) {
			fprintf(stderr, "mock-firewall: capture: %s\n", pcap_geterr(pc));
			goto out;
		}
		n += k > 0 ? k : 0;
		pcap_dump_flush(d);
	}
	fprintf(stderr, "%ld packets written\n", n);
	rc = EX_OK;
out:
	if (d)
		pcap_dump_close(d);
	if (pc)
		pcap_close(pc);
	fwlab_detach(l);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct opts *o);
} cmds[] = {
        {"up", cmd_up},         {"down", cmd_down},       {"gc", cmd_gc},
        {"status", cmd_status}, {"rules", cmd_rules},     {"apply", cmd_apply},
        {"exec", cmd_exec},     {"migrate", cmd_migrate}, {"capture", cmd_capture},
        {"plan", cmd_plan},
};

int main(int argc, char **argv)
{
	struct opts o = {0};

	log_init("mock-firewall", LOG_LVL_WARN);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("mock-firewall %s\n", ONSIGHT_VERSION);
		return EX_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		for (int k = 2; k < argc; k++)
			if (strcmp(argv[k], "--help") == 0) {
				usage(stdout);
				return EX_OK;
			} else if (strcmp(argv[k], "--") == 0) {
				break;
			}
		if (parse_opts(argc - 2, argv + 2, &o) != 0)
			return EX_USAGE;
		return cmds[i].fn(&o);
	}
	fprintf(stderr, "mock-firewall: unknown command %s\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
