/* services.c - the mock cloud of a scenario: mock-oam, three mock-sip instances and
 * mock-teamlink, on the lab plan's addresses; started, checked listening, stopped. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "fwlab.h"
#include "hosts.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- services ----------------------------------------------------------------------------- */

int scen_open_log(const struct scen *s, const char *name)
{
	char path[PATH_MAX];
	scen_pathf(path, sizeof(path), "%s/%s.log", s->dir, name);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int spawn_svc(struct scen *s, const char *name, const char *role, char **argv)
{
	struct svc *v = &s->svc[s->nsvc];
	int fd = scen_open_log(s, name), e;

	snprintf(v->name, sizeof(v->name), "%s", name);
	e = fwlab_spawn(s->lab, role, argv, fd, fd, &v->pid);
	if (fd >= 0)
		close(fd);
	if (e) {
		scen_harness(s, V_ERROR, "cannot start %s in %s: %s", name, role, strerror(e));
		return e;
	}
	s->nsvc++;
	if (s->ntails < MAX_TAILS && v->journal[0]) {
		struct tail *t = &s->tails[s->ntails++];
		str_copy(t->path, v->journal, sizeof(t->path));
		snprintf(t->inst, sizeof(t->inst), "%s", name);
	}
	return 0;
}

/* argv builder with a cap */
struct av {
	char *v[96];
	char store[96][PATH_MAX];
	int n;
};

static void av_add(struct av *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void av_add(struct av *a, const char *fmt, ...)
{
	va_list ap;
	if (a->n >= 95)
		return;
	va_start(ap, fmt);
	vsnprintf(a->store[a->n], PATH_MAX, fmt, ap);
	va_end(ap);
	a->v[a->n] = a->store[a->n];
	a->v[++a->n] = NULL;
}

/* A service's argv starts with its program; its journal is NAME.jsonl in the scenario dir. */
static struct av *svc_argv(struct scen *s, const char *name, const char *prog)
{
	struct av *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	scen_pathf(s->svc[s->nsvc].journal, sizeof(s->svc[s->nsvc].journal), "%s/%s.jsonl", s->dir,
	           name);
	av_add(a, "%s", prog);
	return a;
}

/* --cert and --key: certs/BASE.pem and certs/BASE.key */
static void av_cert(struct av *a, const struct scen *s, const char *base)
{
	av_add(a, "--cert");
	av_add(a, "%s/%s.pem", s->sp->certs, base);
	av_add(a, "--key");
	av_add(a, "%s/%s.key", s->sp->certs, base);
}

/* Adds what every service gets (its journal and its TLS key log), starts it, frees a. */
static int svc_start(struct scen *s, const char *name, const char *role, struct av *a)
{
	int e;

	av_add(a, "--events");
	av_add(a, "%s", s->svc[s->nsvc].journal);
	av_add(a, "--keylog");
	av_add(a, "%s/keys/%s.keys", s->dir, name);
	e = spawn_svc(s, name, role, a->v);
	free(a);
	return e;
}

/* Built once: a scenario runs on one thread of its own process. */
const char *scen_plan_addr(const char *name)
{
	static struct lab_host plan[HOSTS_MAX];
	static size_t n;
	const struct lab_host *h;

	if (!n)
		n = hosts_plan(plan, HOSTS_MAX, NULL);
	h = hosts_find(plan, n, name);
	return h ? h->addr : NULL;
}

/* "HOST:PORT" with HOST a plan name -> "ADDR:PORT" in out; 0 or ENOENT. */
static int plan_target(const char *target, char *out, size_t len)
{
	const char *colon = strrchr(target, ':');
	char host[HOSTS_NAME_MAX];
	const char *addr;

	if (!colon || (size_t)(colon - target) >= sizeof(host))
		return EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - target), target);
	addr = scen_plan_addr(host);
	if (!addr)
		return ENOENT;
	snprintf(out, len, "%s%s", addr, colon);
	return 0;
}

struct svc_def;
/* Adds a service's own arguments; addr is the address of its host (NULL when it has none). */
typedef int (*svc_args_fn)(struct scen *s, const struct svc_def *d, struct av *a, const char *addr,
                           const char *accounts);

/* One mock service of the lab. Its journal, log and key log are NAME.jsonl, NAME.log and
 * keys/NAME.keys in the scenario folder. */
struct svc_def {
	const char *name, *prog;
	const char *role; /* the namespace it runs in */
	const char *host; /* the plan host it listens on; NULL: the args function names them */
	const char *cert; /* certs/CERT.pem and .key; NULL: the args function picks one */
	svc_args_fn args;
	const char *ready[4]; /* "HOST:PORT" (plan names) that accept TCP once it is up */
};

static int args_oam(struct scen *s, const struct svc_def *d, struct av *a, const char *addr,
                    const char *accounts)
{
	const json_t *lab = conform_scenario_lab(s->sp->sc);
	const char *cert = json_string_value(json_object_get(lab, "oam_cert")) ?: "valid";
	const char *base = !strcmp(cert, "untrusted") ? "untrusted"
	        : !strcmp(cert, "expired")            ? "expired"
	        : !strcmp(cert, "wrong-name")         ? "wrong-name"
	                                              : d->host;

	av_add(a, "--listen");
	av_add(a, "%s:443", addr);
	av_cert(a, s, base);
	av_add(a, "--accounts");
	av_add(a, "%s", accounts);
	av_add(a, "--jwt-secret-file");
	av_add(a, "%s", s->sp->jwt_secret);
	return 0;
}

static int args_sip(struct scen *s, const struct svc_def *d, struct av *a, const char *addr,
                    const char *accounts)
{
	struct svc *v = &s->svc[s->nsvc];

	scen_pathf(v->ctl, sizeof(v->ctl), "%s/%s.ctl", s->rundir, d->name);
	av_add(a, "--listen");
	av_add(a, "%s", addr);
	av_add(a, "--users");
	av_add(a, "%s", accounts);
	av_add(a, "--media-addr");
	av_add(a, "%s", addr);
	av_add(a, "--control");
	av_add(a, "%s", v->ctl);
	return 0;
}

/* One process serves every TCM and TeamLink server host; the TCMs send clients to the
 * TeamLink servers by name. */
static int args_teamlink(struct scen *s, const struct svc_def *d, struct av *a, const char *addr,
                         const char *accounts)
{
	static const char *const tcms[] = {"tcm.librestream.com", "tcm1.librestream.com",
	                                   "tcm2.librestream.com", "tcm3.librestream.com"};
	static const char *const tls[] = {
	        "teamlink1.librestream.com", "teamlink2.librestream.com",
	        "teamlink3.librestream.com", "teamlink4.librestream.com",
	        "teamlink5.librestream.com", "teamlink6.librestream.com",
	        "teamlink7.librestream.com", "teamlink10.librestream.com"};

	(void)d;
	(void)addr;
	(void)accounts;
	av_add(a, "--jwt-secret-file");
	av_add(a, "%s", s->sp->jwt_secret);
	for (size_t i = 0; i < ARRAY_SIZE(tcms); i++) {
		const char *ip = scen_plan_addr(tcms[i]);
		if (!ip)
			return ENOENT;
		av_add(a, "--tcm-https");
		av_add(a, "%s:443", ip);
		av_add(a, "--tcm-http");
		av_add(a, "%s:80", ip);
		av_add(a, "--detect");
		av_add(a, "%s", ip);
	}
	/* One probe server holds 8 detect addresses (32 listeners): the TCMs and the first
	 * TeamLink servers, which are the ones the lab accounts name. */
	for (size_t i = 0; i < ARRAY_SIZE(tls); i++) {
		const char *ip = scen_plan_addr(tls[i]);
		if (!ip)
			return ENOENT;
		av_add(a, "--tunnel-https");
		av_add(a, "%s:443", ip);
		av_add(a, "--tunnel-http");
		av_add(a, "%s:80", ip);
		if (i < 4) {
			av_add(a, "--detect");
			av_add(a, "%s", ip);
		}
		av_add(a, "--tcm-server");
		av_add(a, "%s:443:https", tls[i]);
	}
	av_add(a, "--upstream-ca");
	av_add(a, "%s/ca.pem", s->sp->certs);
	return 0;
}

static const struct svc_def services[] = {
        {"mock-oam",
         "mock-oam",
         "net",
         "onsight.librestream.com",
         NULL,
         args_oam,
         {"onsight.librestream.com:443"}},
        {"mock-sip",
         "mock-sip",
         "net",
         "sip.librestream.com",
         "sip.librestream.com",
         args_sip,
         {"sip.librestream.com:5060"}},
        {"mock-sip-private",
         "mock-sip",
         "lan",
         "vcs-control.corp.example",
         "vcs-control.corp.example",
         args_sip,
         {"vcs-control.corp.example:5060"}},
        {"mock-sip-public",
         "mock-sip",
         "net",
         "vcs-expressway.corp.example",
         "vcs-expressway.corp.example",
         args_sip,
         {"vcs-expressway.corp.example:5060"}},
        /* One certificate for every TCM and TeamLink host name. */
        {"mock-teamlink",
         "mock-teamlink",
         "net",
         NULL,
         "wildcard.librestream.com",
         args_teamlink,
         {"tcm.librestream.com:443", "teamlink1.librestream.com:443",
          "teamlink10.librestream.com:80"}},
};

static int svc_def_start(struct scen *s, const struct svc_def *d, const char *accounts)
{
	const char *addr = d->host ? scen_plan_addr(d->host) : NULL;
	struct av *a;
	int e;

	if (d->host && !addr) {
		scen_harness(s, V_ERROR, "%s: host %s is not in the lab plan", d->name, d->host);
		return ENOENT;
	}
	a = svc_argv(s, d->name, d->prog);
	if (!a)
		return ENOMEM;
	if (d->cert)
		av_cert(a, s, d->cert);
	e = d->args(s, d, a, addr, accounts);
	if (e) {
		scen_harness(s, V_ERROR, "%s: a host is not in the lab plan", d->name);
		free(a);
		return e;
	}
	return svc_start(s, d->name, d->role, a);
}

/* Waits, inside role's namespace, until every ADDR:PORT accepts TCP connections. */
static int wait_listening(struct scen *s, const char *role, const char *const *targets, size_t n,
                          char *err, size_t errlen)
{
	int pfd[2];
	pid_t pid;
	char msg[256] = "";
	int status = 0;

	if (pipe2(pfd, O_CLOEXEC))
		return errno;
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		int ns = open(fwlab_netns(s->lab, role), O_RDONLY | O_CLOEXEC);
		uint64_t end = scen_now_ms() + LISTEN_WAIT_MS;
		close(pfd[0]);
		if (ns < 0 || setns(ns, CLONE_NEWNET))
			_exit(3);
		for (size_t i = 0; i < n; i++) {
			struct sockaddr_in sa = {.sin_family = AF_INET};
			char host[64];
			const char *colon = strrchr(targets[i], ':');
			snprintf(host, sizeof(host), "%.*s", (int)(colon - targets[i]), targets[i]);
			sa.sin_port = htons((uint16_t)atoi(colon + 1));
			inet_pton(AF_INET, host, &sa.sin_addr);
			for (;;) {
				int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				int ok =
				        fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
				if (fd >= 0)
					close(fd);
				if (ok)
					break;
				if (scen_now_ms() >= end) {
					dprintf(pfd[1], "%s", targets[i]);
					_exit(1);
				}
				/* Nothing to wait on for "a port starts listening" but time:
				 * retry every 20 ms within the bound. */
				struct timespec ts = {0, 20 * 1000000};
				nanosleep(&ts, NULL);
			}
		}
		_exit(0);
	}
	close(pfd[1]);
	/* While the helper probes, a service that dies ends the wait at once. */
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		scen_reap(s);
		if (s->hverdict[0]) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		struct pollfd pw = {.fd = scen_sig_r, .events = POLLIN};
		char drain[64];
		if (poll(&pw, 1, 100) > 0 && read(scen_sig_r, drain, sizeof(drain)) < 0)
			(void)0;
	}
	ssize_t r = read(pfd[0], msg, sizeof(msg) - 1);
	msg[r > 0 ? r : 0] = '\0';
	close(pfd[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, errlen, "%s not listening within %d ms", *msg ? msg : role, LISTEN_WAIT_MS);
	return ETIMEDOUT;
}

/* Waits until the readiness targets of every service in role's namespace listen. */
static int wait_role(struct scen *s, const char *role, char *err, size_t errlen)
{
	char targets[16][64];
	const char *tp[16];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		if (strcmp(services[i].role, role))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(services[i].ready) && services[i].ready[k]; k++) {
			if (n == ARRAY_SIZE(targets) ||
			    plan_target(services[i].ready[k], targets[n], sizeof(targets[n]))) {
				snprintf(err, errlen, "%s: readiness target %s not in the lab plan",
				         services[i].name, services[i].ready[k]);
				return ENOENT;
			}
			tp[n] = targets[n];
			n++;
		}
	}
	return n ? wait_listening(s, role, tp, n, err, errlen) : 0;
}

int scen_services_start(struct scen *s, const char *accounts)
{
	char err[256];
	int e = 0;

	for (size_t i = 0; i < ARRAY_SIZE(services) && !e; i++)
		e = svc_def_start(s, &services[i], accounts);
	if (e)
		return e;
	e = wait_role(s, "net", err, sizeof(err));
	if (!e)
		e = wait_role(s, "lan", err, sizeof(err));
	scen_reap(s);
	if (e && !s->hverdict[0])
		scen_harness(s, V_ERROR, "mock services did not come up: %s", err);
	return s->hverdict[0] ? EIO : 0;
}

void scen_services_stop(struct scen *s)
{
	uint64_t end;

	s->in_teardown = 1;
	for (size_t i = 0; i < s->nsvc; i++)
		if (s->svc[i].pid > 0 && !s->svc[i].exited)
			kill(s->svc[i].pid, SIGTERM);
	end = scen_now_ms() + SVC_STOP_MS;
	for (;;) {
		int alive = 0;
		scen_reap(s);
		for (size_t i = 0; i < s->nsvc; i++)
			alive += s->svc[i].pid > 0 && !s->svc[i].exited;
		if (!alive || scen_now_ms() >= end)
			break;
		scen_pump(s, 50);
	}
	for (size_t i = 0; i < s->nsvc; i++) {
		if (s->svc[i].pid > 0 && !s->svc[i].exited) {
			kill(s->svc[i].pid, SIGKILL);
			waitpid(s->svc[i].pid, NULL, 0);
			s->svc[i].exited = 1;
			log_warnx("%s did not stop within %d ms of SIGTERM", s->svc[i].name,
			          SVC_STOP_MS);
		}
	}
}

/* Sends one control line to a mock-sip instance; the JSON answer (new reference) or NULL. */
json_t *scen_sip_control(const struct svc *v, const char *line, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	size_t used = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	json_t *j = NULL;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", v->ctl);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		snprintf(err, errlen, "%s control %s: %s", v->name, v->ctl, strerror(errno));
		goto out;
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (used + 1 < sizeof(buf) && poll(&p, 1, 3000) > 0) {
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (memchr(buf, '\n', used))
			break;
	}
	buf[used] = '\0';
	j = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	if (!j)
		snprintf(err, errlen, "%s control: no JSON answer (\"%.60s\")", v->name, buf);
out:
	if (fd >= 0)
		close(fd);
	return j;
}

struct svc *scen_svc_by_name(struct scen *s, const char *name)
{
	for (size_t i = 0; i < s->nsvc; i++)
		if (!strcmp(s->svc[i].name, name))
			return &s->svc[i];
	return NULL;
}
