/* services.c - the mock cloud of a scenario: mock-oam, three mock-sip instances and
 * mock-teamlink, on the lab plan's addresses; started, checked listening, stopped. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "fwlab.h"
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

static int start_oam(struct scen *s, const char *accounts)
{
	const json_t *lab = conform_scenario_lab(s->sp->sc);
	const char *cert = json_string_value(json_object_get(lab, "oam_cert")) ?: "valid";
	const char *base = !strcmp(cert, "untrusted") ? "untrusted"
	        : !strcmp(cert, "expired")            ? "expired"
	        : !strcmp(cert, "wrong-name")         ? "wrong-name"
	                                              : "onsight.librestream.com";
	struct av *a = svc_argv(s, "mock-oam", "mock-oam");

	if (!a)
		return ENOMEM;
	av_add(a, "--listen");
	av_add(a, "203.0.113.10:443");
	av_cert(a, s, base);
	av_add(a, "--accounts");
	av_add(a, "%s", accounts);
	av_add(a, "--jwt-secret-file");
	av_add(a, "%s", s->sp->jwt_secret);
	return svc_start(s, "mock-oam", "net", a);
}

static int start_sip(struct scen *s, const char *name, const char *role, const char *addr,
                     const char *certname, const char *accounts)
{
	struct av *a = svc_argv(s, name, "mock-sip");
	struct svc *v = &s->svc[s->nsvc];

	if (!a)
		return ENOMEM;
	scen_pathf(v->ctl, sizeof(v->ctl), "%s/%s.ctl", s->rundir, name);
	av_add(a, "--listen");
	av_add(a, "%s", addr);
	av_cert(a, s, certname);
	av_add(a, "--users");
	av_add(a, "%s", accounts);
	av_add(a, "--media-addr");
	av_add(a, "%s", addr);
	av_add(a, "--control");
	av_add(a, "%s", v->ctl);
	return svc_start(s, name, role, a);
}

static const char *const tcm_hosts[] = {"203.0.113.30", "203.0.113.31", "203.0.113.32",
                                        "203.0.113.33"};
static const char *const tl_hosts[] = {"203.0.113.41", "203.0.113.42", "203.0.113.43",
                                       "203.0.113.44", "203.0.113.45", "203.0.113.46",
                                       "203.0.113.47", "203.0.113.50"};
static const char *const tl_names[] = {"teamlink1", "teamlink2", "teamlink3", "teamlink4",
                                       "teamlink5", "teamlink6", "teamlink7", "teamlink10"};

static int start_teamlink(struct scen *s)
{
	struct av *a = svc_argv(s, "mock-teamlink", "mock-teamlink");

	if (!a)
		return ENOMEM;
	av_add(a, "--jwt-secret-file");
	av_add(a, "%s", s->sp->jwt_secret);
	/* One certificate for every TCM and TeamLink host name. */
	av_cert(a, s, "wildcard.librestream.com");
	for (size_t i = 0; i < ARRAY_SIZE(tcm_hosts); i++) {
		av_add(a, "--tcm-https");
		av_add(a, "%s:443", tcm_hosts[i]);
		av_add(a, "--tcm-http");
		av_add(a, "%s:80", tcm_hosts[i]);
		av_add(a, "--detect");
		av_add(a, "%s", tcm_hosts[i]);
	}
	/* One probe server holds 8 detect addresses (32 listeners): the TCMs and the first
	 * TeamLink servers, which are the ones the lab accounts name. */
	for (size_t i = 0; i < ARRAY_SIZE(tl_hosts); i++) {
		av_add(a, "--tunnel-https");
		av_add(a, "%s:443", tl_hosts[i]);
		av_add(a, "--tunnel-http");
		av_add(a, "%s:80", tl_hosts[i]);
		if (i < 4) {
			av_add(a, "--detect");
			av_add(a, "%s", tl_hosts[i]);
		}
		av_add(a, "--tcm-server");
		av_add(a, "%s.librestream.com:443:https", tl_names[i]);
	}
	av_add(a, "--upstream-ca");
	av_add(a, "%s/ca.pem", s->sp->certs);
	return svc_start(s, "mock-teamlink", "net", a);
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

int scen_services_start(struct scen *s, const char *accounts)
{
	static const char *const net_targets[] = {"203.0.113.10:443",  "203.0.113.20:5060",
	                                          "203.0.113.60:5060", "203.0.113.30:443",
	                                          "203.0.113.41:443",  "203.0.113.50:80"};
	static const char *const lan_targets[] = {"198.51.100.5:5060"};
	char err[256];
	int e;

	if ((e = start_oam(s, accounts)) ||
	    (e = start_sip(s, "mock-sip", "net", "203.0.113.20", "sip.librestream.com",
	                   accounts)) ||
	    (e = start_sip(s, "mock-sip-private", "lan", "198.51.100.5", "vcs-control.corp.example",
	                   accounts)) ||
	    (e = start_sip(s, "mock-sip-public", "net", "203.0.113.60",
	                   "vcs-expressway.corp.example", accounts)) ||
	    (e = start_teamlink(s)))
		return e;
	e = wait_listening(s, "net", net_targets, ARRAY_SIZE(net_targets), err, sizeof(err));
	if (!e)
		e = wait_listening(s, "lan", lan_targets, 1, err, sizeof(err));
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
