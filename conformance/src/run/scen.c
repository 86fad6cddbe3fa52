/* scen.c - one scenario end to end (scen.h). One thread; every wait is a poll() on the
 * endpoint's stdout, an inotify watch on the scenario directory (journals) and a self-pipe
 * fed by SIGCHLD, bounded by the step's timeout and the scenario's hard deadline. */

#define LOG_TAG "scenario"
#include "scen.h"

#include "adapter.h"
#include "capture.h"
#include "conform/analysis.h"
#include "fwlab.h"
#include "onsight/jsoncfg.h"
#include "onsight/log.h"
#include "onsight/util.h"
#include "report.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* snprintf for paths: truncation is detected by the caller's later open(), never silent
 * memory damage; the wrapper keeps gcc's truncation warnings for literal buffers quiet. */
static int pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}

#define MAX_SVC 8
#define MAX_CAPS 4
#define MAX_TAILS 8
#define LINE_MAX_LEN 16384
#define LAB_UP_BUDGET_MS 30000
#define LISTEN_WAIT_MS 8000
#define SVC_STOP_MS 3000
#define DEFAULT_DEADLINE_S 60
#define PEER_URI "sip:peer@librestream.com"

struct svc {
	char name[32]; /* "mock-sip", "mock-sip-private", ... */
	pid_t pid;
	int exited, status;
	char journal[PATH_MAX];
	char ctl[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct tail {
	char path[PATH_MAX];
	char inst[32]; /* the service instance writing it */
	off_t off;
	char part[LINE_MAX_LEN];
	size_t plen;
};

struct scen {
	const struct scen_spec *sp;
	struct fwlab *lab;
	char dir[PATH_MAX];
	char rundir[64];
	struct svc svc[MAX_SVC];
	size_t nsvc;
	struct capture *cap[MAX_CAPS];
	size_t ncap;
	pid_t ep_pid;
	int ep_exited, ep_status, ep_out, ep_logfd;
	int stop_sent;
	char line[LINE_MAX_LEN];
	size_t linelen;
	int ino;
	struct tail tails[MAX_TAILS];
	size_t ntails;
	json_t *counts; /* event name -> times seen */
	int ready;
	char sip_user[128];
	char last_reg[32]; /* instance that saw the latest successful REGISTER of our user */
	json_t *account;
	json_t *steps;
	uint64_t t0, deadline;
	char hverdict[16], hreason[768];
	const char *cur_step;
	int in_teardown;
};

static int sig_r = -1, sig_w = -1;
static volatile sig_atomic_t interrupted;

static void on_sigchld(int sig)
{
	int saved = errno;
	char c = (char)sig;
	if (sig_w >= 0 && write(sig_w, &c, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

void scen_interrupt(void)
{
	interrupted = 1;
	on_sigchld(SIGTERM);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double since_s(const struct scen *s)
{
	return s->t0 ? (double)(now_ms() - s->t0) / 1000.0 : 0;
}

/* Records the run-level verdict; the most severe one wins, the first reason of it stays. */
static void harness(struct scen *s, const char *verdict, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void harness(struct scen *s, const char *verdict, const char *fmt, ...)
{
	static const char *const rank[] = {V_FAIL, V_NOT_STARTED, V_ERROR};
	int cur = -1, neu = 0;
	va_list ap;

	for (int i = 0; i < 3; i++) {
		if (!strcmp(rank[i], s->hverdict))
			cur = i;
		if (!strcmp(rank[i], verdict))
			neu = i;
	}
	if (neu <= cur)
		return;
	snprintf(s->hverdict, sizeof(s->hverdict), "%s", verdict);
	va_start(ap, fmt);
	vsnprintf(s->hreason, sizeof(s->hreason), fmt, ap);
	va_end(ap);
	log_info("%s: %s: %s", conform_scenario_id(s->sp->sc), verdict, s->hreason);
}

static void step_log(struct scen *s, const char *step, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void step_log(struct scen *s, const char *step, const char *fmt, ...)
{
	char out[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	json_array_append_new(
	        s->steps,
	        json_pack("{s:f,s:s,s:s}", "t", since_s(s), "step", step, "outcome", out));
	if (s->sp->verbose)
		log_info("%s: %s: %s", conform_scenario_id(s->sp->sc), step, out);
}

static void count(struct scen *s, const char *ev)
{
	json_int_t n = json_integer_value(json_object_get(s->counts, ev));
	json_object_set_new(s->counts, ev, json_integer(n + 1));
}

static json_int_t counted(const struct scen *s, const char *ev)
{
	return json_integer_value(json_object_get(s->counts, ev));
}

static const char *status_str(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
		         strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	return buf;
}

/* ---- children ------------------------------------------------------------------------ */

static void reap(struct scen *s)
{
	char st[96];
	int status;

	if (s->ep_pid > 0 && !s->ep_exited && waitpid(s->ep_pid, &status, WNOHANG) == s->ep_pid) {
		s->ep_exited = 1;
		s->ep_status = status;
		if (!s->stop_sent) {
			if (!s->ready)
				harness(s, V_NOT_STARTED,
				        "the endpoint exited before it was ready (%s); "
				        "see endpoint.stderr.log",
				        status_str(status, st, sizeof(st)));
			else if (WIFSIGNALED(status))
				harness(s, V_FAIL, "the endpoint crashed during step %s (%s)",
				        s->cur_step ? s->cur_step : "start",
				        status_str(status, st, sizeof(st)));
			else
				harness(s, V_FAIL,
				        "the endpoint exited by itself during step %s (%s)",
				        s->cur_step ? s->cur_step : "start",
				        status_str(status, st, sizeof(st)));
		}
	}
	for (size_t i = 0; i < s->nsvc; i++) {
		struct svc *v = &s->svc[i];
		if (v->pid <= 0 || v->exited || waitpid(v->pid, &status, WNOHANG) != v->pid)
			continue;
		v->exited = 1;
		v->status = status;
		if (!s->in_teardown)
			harness(s, V_ERROR, "%s died during %s (%s); see %s.log", v->name,
			        s->cur_step ? s->cur_step : "start-up",
			        status_str(status, st, sizeof(st)), v->name);
	}
}

/* ---- journals and endpoint output ------------------------------------------------------ */

static int same_user(const char *u, const char *want)
{
	size_t n = strlen(want);
	if (!u || !*want)
		return 0;
	if (!strncmp(u, "sip:", 4) || !strncmp(u, "sips:", 5))
		u = strchr(u, ':') + 1;
	return !strncmp(u, want, n) && (u[n] == '\0' || u[n] == '@');
}

static void on_journal(struct scen *s, const struct tail *t, const char *line)
{
	json_t *j = json_loads(line, 0, NULL);
	const char *svc = json_string_value(json_object_get(j, "service"));
	const char *ev = json_string_value(json_object_get(j, "event"));
	char key[96];

	if (!svc || !ev)
		goto out;
	if (!strcmp(svc, "mock-sip") && !strcmp(ev, "register") &&
	    !strcmp(json_string_value(json_object_get(j, "result")) ?: "", "ok") &&
	    same_user(json_string_value(json_object_get(j, "user")), s->sip_user)) {
		count(s, "journal:registered");
		snprintf(s->last_reg, sizeof(s->last_reg), "%s", t->inst);
	}
	if (!strcmp(ev, "call")) {
		snprintf(key, sizeof(key), "call.%s",
		         json_string_value(json_object_get(j, "state")) ?: "?");
		count(s, key);
	}
	if (adapter_ready_kind(s->sp->ad) == READY_JOURNAL &&
	    !strcmp(svc, adapter_ready_pattern(s->sp->ad)) &&
	    !strcmp(ev, adapter_ready_event(s->sp->ad)))
		s->ready = 1;
out:
	json_decref(j);
}

static void read_tails(struct scen *s)
{
	char buf[8192];

	for (size_t i = 0; i < s->ntails; i++) {
		struct tail *t = &s->tails[i];
		int fd = open(t->path, O_RDONLY | O_CLOEXEC);
		ssize_t n;
		if (fd < 0)
			continue;
		/* Bounded: at most 64 reads a wake-up; the rest comes on the next one. */
		for (int k = 0; k < 64 && (n = pread(fd, buf, sizeof(buf), t->off)) > 0; k++) {
			t->off += n;
			for (ssize_t b = 0; b < n; b++) {
				if (buf[b] != '\n') {
					if (t->plen + 1 < sizeof(t->part))
						t->part[t->plen++] = buf[b];
					continue;
				}
				t->part[t->plen] = '\0';
				on_journal(s, t, t->part);
				t->plen = 0;
			}
		}
		close(fd);
	}
}

static void on_ep_line(struct scen *s, const char *line)
{
	json_t *j;
	const char *ev;

	if (adapter_ready_kind(s->sp->ad) == READY_STDOUT && adapter_ready_match(s->sp->ad, line))
		s->ready = 1;
	if (line[0] != '{')
		return;
	j = json_loads(line, 0, NULL);
	ev = json_string_value(json_object_get(j, "event"));
	if (ev) {
		count(s, ev);
		count(s, "status:any");
	}
	json_decref(j);
}

static void read_ep(struct scen *s)
{
	char buf[8192];
	ssize_t n = read(s->ep_out, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(s->ep_out);
			s->ep_out = -1;
		}
		return;
	}
	if (s->ep_logfd >= 0 && write(s->ep_logfd, buf, (size_t)n) < 0)
		log_warn("endpoint log");
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (s->linelen + 1 < sizeof(s->line))
				s->line[s->linelen++] = buf[i];
			continue;
		}
		s->line[s->linelen] = '\0';
		on_ep_line(s, s->line);
		s->linelen = 0;
	}
}

/* One wait of at most ms for anything to happen, then processes what did. */
static void pump(struct scen *s, int ms)
{
	struct pollfd p[3] = {{.fd = sig_r, .events = POLLIN},
	                      {.fd = s->ep_out, .events = POLLIN},
	                      {.fd = s->ino, .events = POLLIN}};
	char buf[4096];

	if (ms < 0)
		ms = 0;
	if (poll(p, 3, ms) > 0) {
		if (p[0].revents && read(sig_r, buf, sizeof(buf)) < 0)
			(void)0;
		if (p[1].revents)
			read_ep(s);
		if (p[2].revents && read(s->ino, buf, sizeof(buf)) < 0)
			(void)0;
	}
	reap(s);
	read_tails(s);
}

static int must_abort(const struct scen *s)
{
	/* An endpoint that exited by itself leaves nothing more to observe. */
	return interrupted || (s->ep_exited && !s->stop_sent) || !strcmp(s->hverdict, V_ERROR) ||
	        !strcmp(s->hverdict, V_NOT_STARTED) || (s->deadline && now_ms() >= s->deadline);
}

/* Waits until pred(s, arg) holds, for at most ms; 1 if it held. */
static int wait_for(struct scen *s, int (*pred)(struct scen *, const void *), const void *arg,
                    uint64_t ms)
{
	uint64_t end = now_ms() + ms;

	if (s->deadline && end > s->deadline)
		end = s->deadline;
	for (;;) {
		if (pred && pred(s, arg))
			return 1;
		if (must_abort(s) || now_ms() >= end)
			return pred ? pred(s, arg) : 0;
		pump(s, (int)(end - now_ms() > 250 ? 250 : end - now_ms()));
	}
}

static int pred_count_above(struct scen *s, const void *arg)
{
	const json_t *a = arg;
	return counted(s, json_string_value(json_array_get(a, 0))) >
	        json_integer_value(json_array_get(a, 1));
}

static int pred_ready(struct scen *s, const void *arg)
{
	(void)arg;
	return s->ready || s->ep_exited;
}

static int pred_ep_exited(struct scen *s, const void *arg)
{
	(void)arg;
	return s->ep_exited;
}

/* ---- files ------------------------------------------------------------------------------ */

static int write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text), off = 0;
	int e = 0;

	if (fd < 0)
		return errno;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0) {
			e = errno ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	close(fd);
	return e;
}

static void merge_into(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)src, k, v)
	{
		json_t *d = json_object_get(dst, k);
		if (json_is_object(d) && json_is_object(v))
			merge_into(d, v);
		else
			json_object_set(dst, k, v);
	}
}

int scen_write_accounts(const char *accounts_path, const char *username, const json_t *overlay,
                        const char *out_path, json_t **accountp, char *err, size_t errlen)
{
	json_t *root = NULL, *acc, *found = NULL;
	size_t i;
	int e = jcfg_load(accounts_path, &root, err, errlen);

	if (e)
		return e;
	json_array_foreach(json_object_get(root, "accounts"), i, acc)
	{
		if (!strcmp(json_string_value(json_object_get(acc, "username")) ?: "", username)) {
			found = acc;
			break;
		}
	}
	if (!found) {
		snprintf(err, errlen, "%s: no account \"%s\"", accounts_path, username);
		e = ENOENT;
		goto out;
	}
	if (overlay && json_is_object(json_object_get(found, "config")))
		merge_into(json_object_get(found, "config"), overlay);
	if (json_dump_file(root, out_path, JSON_INDENT(2))) {
		snprintf(err, errlen, "%s: cannot write", out_path);
		e = EIO;
		goto out;
	}
	if (accountp)
		*accountp = json_incref(found);
out:
	json_decref(root);
	return e;
}

/* ---- services ----------------------------------------------------------------------------- */

static int open_log(const struct scen *s, const char *name)
{
	char path[PATH_MAX];
	pathf(path, sizeof(path), "%s/%s.log", s->dir, name);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int spawn_svc(struct scen *s, const char *name, const char *role, char **argv)
{
	struct svc *v = &s->svc[s->nsvc];
	int fd = open_log(s, name), e;

	snprintf(v->name, sizeof(v->name), "%s", name);
	e = fwlab_spawn(s->lab, role, argv, fd, fd, &v->pid);
	if (fd >= 0)
		close(fd);
	if (e) {
		harness(s, V_ERROR, "cannot start %s in %s: %s", name, role, strerror(e));
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
	pathf(s->svc[s->nsvc].journal, sizeof(s->svc[s->nsvc].journal), "%s/%s.jsonl", s->dir,
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
	pathf(v->ctl, sizeof(v->ctl), "%s/%s.ctl", s->rundir, name);
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
		uint64_t end = now_ms() + LISTEN_WAIT_MS;
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
				if (now_ms() >= end) {
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
		reap(s);
		if (s->hverdict[0]) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		struct pollfd pw = {.fd = sig_r, .events = POLLIN};
		char drain[64];
		if (poll(&pw, 1, 100) > 0 && read(sig_r, drain, sizeof(drain)) < 0)
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

static int start_services(struct scen *s, const char *accounts)
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
	reap(s);
	if (e && !s->hverdict[0])
		harness(s, V_ERROR, "mock services did not come up: %s", err);
	return s->hverdict[0] ? EIO : 0;
}

static void stop_services(struct scen *s)
{
	uint64_t end;

	s->in_teardown = 1;
	for (size_t i = 0; i < s->nsvc; i++)
		if (s->svc[i].pid > 0 && !s->svc[i].exited)
			kill(s->svc[i].pid, SIGTERM);
	end = now_ms() + SVC_STOP_MS;
	for (;;) {
		int alive = 0;
		reap(s);
		for (size_t i = 0; i < s->nsvc; i++)
			alive += s->svc[i].pid > 0 && !s->svc[i].exited;
		if (!alive || now_ms() >= end)
			break;
		pump(s, 50);
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

/* ---- captures ------------------------------------------------------------------------------ */

static const struct {
	const char *name, *role, *iface;
} links[] = {
        {"ep", "ep", "eth0"},
        {"fw-lan", "fw", "addr:198.51.100.1"},
        {"fw-wan", "fw", "addr:203.0.113.2"},
        {"proxy", "lan", "addr:198.51.100.3"},
};

static int start_captures(struct scen *s)
{
	char err[512], path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		pathf(path, sizeof(path), "%s/%s.pcap", s->dir, links[i].name);
		int e = capture_start(&s->cap[s->ncap], links[i].name,
		                      fwlab_netns(s->lab, links[i].role), links[i].iface, path, err,
		                      sizeof(err));
		if (e) {
			harness(s, V_ERROR, "%s", err);
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

	pathf(out, len, "%s/keys.log", s->dir);
	o = fopen(out, "w");
	if (!o)
		return errno;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char line[1024];
		pathf(path, sizeof(path), "%s/keys/%s.keys", s->dir, names[i]);
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

static void stop_captures_convert(struct scen *s, json_t *artifacts)
{
	char keys[PATH_MAX], err[256], ng[PATH_MAX], log[PATH_MAX];
	int have_keys = !join_keylogs(s, keys, sizeof(keys));

	pathf(log, sizeof(log), "%s/editcap.log", s->dir);
	for (size_t i = 0; i < s->ncap; i++) {
		char pcap[PATH_MAX], name[32];
		snprintf(pcap, sizeof(pcap), "%s", capture_path(s->cap[i]));
		snprintf(name, sizeof(name), "%s", capture_name(s->cap[i]));
		long n = capture_stop(s->cap[i], err, sizeof(err));
		s->cap[i] = NULL;
		if (n < 0) {
			harness(s, V_ERROR, "%s", err);
			continue;
		}
		pathf(ng, sizeof(ng), "%s/%s.pcapng", s->dir, name);
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

/* ---- endpoint ----------------------------------------------------------------------------- */

/* Seconds after registering at which the endpoint should place its call (onsight-ref's
 * --call-after), from the steps that come before the call-out step: earlier calls in and
 * sleeps. The call-out step itself then waits for the call to show in mock-sip's journal. */
static double call_after(const struct conform_scenario *sc)
{
	double t = 0.5;
	int waited = 0;
	for (size_t i = 0; i < conform_scenario_step_count(sc); i++) {
		const struct conform_step *st = conform_scenario_step(sc, i);
		if (st->kind == CONFORM_STEP_CALL_OUT)
			return t;
		if (st->kind == CONFORM_STEP_WAIT)
			waited = 1;
		else if (waited && st->kind == CONFORM_STEP_CALL_IN)
			t += st->seconds + 1; /* the call in ends `seconds` after its answer */
		else if (waited && st->kind == CONFORM_STEP_SLEEP)
			t += st->seconds;
	}
	return t;
}

static double call_hold(const struct conform_scenario *sc)
{
	for (size_t i = 0; i < conform_scenario_step_count(sc); i++) {
		const struct conform_step *st = conform_scenario_step(sc, i);
		if (st->kind == CONFORM_STEP_CALL_OUT)
			return st->seconds > 0 ? st->seconds : 3;
	}
	return 3;
}

static const char *call_uri(const struct conform_scenario *sc)
{
	for (size_t i = 0; i < conform_scenario_step_count(sc); i++) {
		const struct conform_step *st = conform_scenario_step(sc, i);
		if (st->kind == CONFORM_STEP_CALL_OUT)
			return st->uri ? st->uri : PEER_URI;
	}
	return NULL;
}

static const char *cfg_str(const json_t *acc, const char *a, const char *b, const char *c)
{
	const json_t *j = json_object_get(json_object_get(acc, "config"), a);
	if (b)
		j = json_object_get(j, b);
	if (c)
		j = json_object_get(j, c);
	return json_string_value(j);
}

static int start_endpoint(struct scen *s)
{
	const struct adapter *ad = s->sp->ad;
	struct adapter_vars v = {0};
	char work[PATH_MAX], pwfile[PATH_MAX], events[PATH_MAX], keylog[PATH_MAX], ca[PATH_MAX];
	char proxy[300] = "", server[300] = "", domain[128] = "", after[32], err[512];
	char **argv = NULL, **env = NULL;
	int pfd[2] = {-1, -1}, errfd = -1, e;
	const json_t *acc = s->account, *lab = conform_scenario_lab(s->sp->sc);
	const char *start = json_string_value(json_object_get(lab, "start")) ?: "inside";

	pathf(work, sizeof(work), "%s/endpoint", s->dir);
	mkdir(work, 0700);
	pathf(pwfile, sizeof(pwfile), "%s/password", work);
	pathf(events, sizeof(events), "%s/endpoint.jsonl", s->dir);
	pathf(keylog, sizeof(keylog), "%s/keys/endpoint.keys", s->dir);
	pathf(ca, sizeof(ca), "%s/ca.pem", s->sp->certs);
	const char *pw = json_string_value(json_object_get(acc, "password")) ?: "";
	char pwline[512];
	snprintf(pwline, sizeof(pwline), "%s\n", pw);
	if ((e = write_text(pwfile, pwline, 0600))) {
		harness(s, V_ERROR, "%s: %s", pwfile, strerror(e));
		return e;
	}
	const json_t *px = json_object_get(
	        json_object_get(json_object_get(acc, "config"), "teamlink"), "proxy");
	/* The device's web proxy setting only makes sense on the LAN that has the proxy. */
	if (json_is_object(px) && !strcmp(start, "inside"))
		snprintf(proxy, sizeof(proxy), "%s:%d",
		         json_string_value(json_object_get(px, "host")) ?: "",
		         (int)json_integer_value(json_object_get(px, "port")));
	const char *sip_uri = cfg_str(acc, "user", "sip_uri", NULL);
	const char *at = sip_uri ? strchr(sip_uri, '@') : NULL;
	if (at)
		snprintf(domain, sizeof(domain), "%s", at + 1);
	const json_t *pub =
	        json_object_get(json_object_get(json_object_get(acc, "config"), "sip"), "public");
	if (json_is_object(pub))
		snprintf(server, sizeof(server), "%s:%d",
		         json_string_value(json_object_get(pub, "host")) ?: "",
		         (int)json_integer_value(json_object_get(pub, "port")));
	char hold[32];
	snprintf(after, sizeof(after), "%.0f", call_after(s->sp->sc));
	snprintf(hold, sizeof(hold), "%.0f", call_hold(s->sp->sc));
	v.oam_url = "https://onsight.librestream.com";
	v.username = json_string_value(json_object_get(acc, "username"));
	v.password = pw;
	v.password_file = pwfile;
	v.ca_file = ca;
	v.proxy = proxy;
	v.workdir = work;
	v.call_uri = call_uri(s->sp->sc);
	v.call_after = v.call_uri ? after : NULL;
	v.call_hold = v.call_uri ? hold : NULL;
	v.events = events;
	v.keylog = keylog;
	v.sip_uri = sip_uri;
	v.sip_user = cfg_str(acc, "sip", "auth_user", NULL);
	v.sip_password = cfg_str(acc, "sip", "auth_password", NULL);
	v.sip_domain = domain;
	v.sip_server = server;
	v.sip_transport = cfg_str(acc, "sip", "transport", NULL);
	v.fault = s->sp->fault;
	if ((e = adapter_write_files(ad, &v, err, sizeof(err))) ||
	    (e = adapter_argv(ad, &v, &argv, err, sizeof(err))) ||
	    (e = adapter_envv(ad, &v, &env, err, sizeof(err)))) {
		harness(s, V_NOT_STARTED, "%s", err);
		goto out;
	}
	/* fwlab_spawn passes our environment on: the adapter's variables go there. */
	for (size_t i = 0; env[i]; i++)
		putenv(env[i]);
	{
		char cmd[PATH_MAX];
		size_t used = 0;
		for (size_t i = 0; argv[i] && used < sizeof(cmd) - 2; i++)
			used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%s%s",
			                         i ? " " : "", argv[i]);
		char cpath[PATH_MAX];
		pathf(cpath, sizeof(cpath), "%s/endpoint.cmdline", s->dir);
		strcat(cmd, "\n");
		if (write_text(cpath, cmd, 0644))
			log_warnx("%s: cannot write", cpath);
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		e = errno;
		harness(s, V_ERROR, "pipe: %s", strerror(e));
		goto out;
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	errfd = open_log(s, "endpoint.stderr");
	e = fwlab_spawn(s->lab, "ep", argv, pfd[1], errfd, &s->ep_pid);
	if (e) {
		harness(s, V_NOT_STARTED, "cannot start %s: %s", argv[0], strerror(e));
		goto out;
	}
	s->ep_out = pfd[0];
	pfd[0] = -1;
	s->t0 = now_ms();
	if (adapter_ready_kind(ad) == READY_START)
		s->ready = 1;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (errfd >= 0)
		close(errfd);
	adapter_strv_free(argv);
	/* putenv keeps the strings: they live as long as this (job) process. */
	free(env);
	return e;
}

static void stop_endpoint(struct scen *s, const char *why)
{
	const struct adapter *ad = s->sp->ad;
	char st[96];
	int sig = adapter_stop_signal(ad);

	if (s->ep_pid <= 0 || s->ep_exited)
		return;
	s->stop_sent = 1;
	kill(s->ep_pid, sig);
	uint64_t save = s->deadline;
	s->deadline = 0; /* the grace period is owed even past the deadline */
	int gone = wait_for(s, pred_ep_exited, NULL, (uint64_t)adapter_stop_grace_ms(ad));
	s->deadline = save;
	if (!gone) {
		kill(s->ep_pid, SIGKILL);
		waitpid(s->ep_pid, &s->ep_status, 0);
		s->ep_exited = 1;
		harness(s, V_FAIL,
		        "the endpoint hung: still running %d ms after SIG%s (%s); killed",
		        adapter_stop_grace_ms(ad), sigabbrev_np(sig) ?: "?", why);
		return;
	}
	if (WIFSIGNALED(s->ep_status) && WTERMSIG(s->ep_status) != sig)
		harness(s, V_FAIL, "the endpoint crashed while stopping (%s)",
		        status_str(s->ep_status, st, sizeof(st)));
}

/* ---- steps ---------------------------------------------------------------------------------- */

/* Sends one control line to a mock-sip instance; the JSON answer (new reference) or NULL. */
static json_t *sip_control(const struct svc *v, const char *line, char *err, size_t errlen)
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

static struct svc *svc_by_name(struct scen *s, const char *name)
{
	for (size_t i = 0; i < s->nsvc; i++)
		if (!strcmp(s->svc[i].name, name))
			return &s->svc[i];
	return NULL;
}

static int wait_count(struct scen *s, const char *ev, json_int_t above, double secs)
{
	json_t *a = json_pack("[s,I]", ev, above);
	int ok = wait_for(s, pred_count_above, a, (uint64_t)(secs * 1000));
	json_decref(a);
	return ok;
}

struct wait_arg {
	const char *ev;
	json_int_t seen, journal_seen; /* counts when the step began */
};

/* A new `ev` status line. An endpoint without status output is seen registering in
 * mock-sip's journal. One that writes status lines is judged by its own: the server's 200
 * can still be on its way to the endpoint when the journal shows it (held by a proxy, say). */
static int pred_wait(struct scen *s, const void *arg)
{
	const struct wait_arg *w = arg;

	return counted(s, w->ev) > w->seen ||
	        (!strcmp(w->ev, "registered") && counted(s, "status:any") == 0 &&
	         counted(s, "journal:registered") > w->journal_seen);
}

static void step_wait(struct scen *s, const struct conform_step *st, const char *name)
{
	struct wait_arg w = {.ev = st->event ? st->event : "registered"};
	uint64_t t = now_ms();

	read_tails(s); /* what the services wrote before this step belongs to earlier ones */
	w.seen = counted(s, w.ev);
	w.journal_seen = counted(s, "journal:registered");
	if (wait_for(s, pred_wait, &w, (uint64_t)(st->timeout_s * 1000)))
		step_log(s, name, "ok after %.2f s", (double)(now_ms() - t) / 1000.0);
	else
		step_log(s, name, "no %s within %.0f s", w.ev, st->timeout_s);
}

static void step_call_in(struct scen *s, const struct conform_step *st, const char *name)
{
	char line[256], err[256];
	struct svc *v = s->last_reg[0] ? svc_by_name(s, s->last_reg) : NULL;
	json_t *ans;

	if (!(adapter_caps(s->sp->ad) & CAP_AUTO_ANSWER)) {
		step_log(s, name, "skipped: capability auto-answer not declared");
		return;
	}
	if (!v) {
		step_log(s, name, "skipped: the endpoint is registered with no SIP server");
		return;
	}
	json_int_t ended = counted(s, "call.end"), answered = counted(s, "call.answered");
	snprintf(line, sizeof(line), "call %s %.0f\n", s->sip_user, st->seconds);
	ans = sip_control(v, line, err, sizeof(err));
	if (!ans || !json_is_true(json_object_get(ans, "ok"))) {
		char *dump = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
		step_log(s, name, "%s refused the call: %s", v->name, dump ? dump : err);
		free(dump);
		json_decref(ans);
		return;
	}
	json_decref(ans);
	int ok = wait_count(s, "call.answered", answered, st->timeout_s);
	if (!ok) {
		step_log(s, name, "not answered within %.0f s", st->timeout_s);
		return;
	}
	ok = wait_count(s, "call.end", ended, st->seconds + 5);
	step_log(s, name, "%s via %s", ok ? "answered and ended" : "answered, no end seen",
	         v->name);
}

static void step_call_out(struct scen *s, const struct conform_step *st, const char *name)
{
	json_int_t ended = counted(s, "call.end");

	if (!(adapter_caps(s->sp->ad) & CAP_CALL_OUT)) {
		step_log(s, name, "skipped: capability call-out not declared");
		return;
	}
	if (!s->last_reg[0] && !counted(s, "registered")) {
		step_log(s, name, "skipped: the endpoint is registered with no SIP server");
		return;
	}
	/* The endpoint places the call itself ({call_uri} on its command line). */
	int ok = wait_count(s, "call.end", ended, st->timeout_s + st->seconds + 10);
	step_log(s, name, ok ? "a call was placed and ended" : "no call seen within %.0f s",
	         st->timeout_s + st->seconds + 10);
}

static void step_hangup(struct scen *s, const char *name)
{
	char err[256];
	struct svc *v = s->last_reg[0] ? svc_by_name(s, s->last_reg) : svc_by_name(s, "mock-sip");
	json_t *ans = v ? sip_control(v, "hangup\n", err, sizeof(err)) : NULL;

	step_log(s, name, "%s",
	         ans && json_is_true(json_object_get(ans, "ok")) ? "hung up" : "no call to end");
	json_decref(ans);
}

static void run_steps(struct scen *s)
{
	const struct conform_scenario *sc = s->sp->sc;
	char name[160], err[512];

	for (size_t i = 0; i < conform_scenario_step_count(sc) && !must_abort(s); i++) {
		const struct conform_step *st = conform_scenario_step(sc, i);
		int e;

		snprintf(name, sizeof(name), "%zu %s%s%s", i + 1, st->do_name,
		         st->event || st->to || st->profile ? " " : "",
		         st->event             ? st->event
		                 : st->to      ? st->to
		                 : st->profile ? st->profile
		                               : "");
		s->cur_step = st->do_name;
		switch (st->kind) {
		case CONFORM_STEP_WAIT:
			step_wait(s, st, name);
			break;
		case CONFORM_STEP_CALL_IN:
			step_call_in(s, st, name);
			break;
		case CONFORM_STEP_CALL_OUT:
			step_call_out(s, st, name);
			break;
		case CONFORM_STEP_HANGUP:
			step_hangup(s, name);
			break;
		case CONFORM_STEP_MIGRATE:
			e = fwlab_migrate(s->lab, st->to);
			if (e)
				harness(s, V_ERROR, "migrate %s: %s", st->to, strerror(e));
			step_log(s, name, e ? "failed: %s" : "done", strerror(e));
			break;
		case CONFORM_STEP_APPLY:
			e = fwlab_apply(s->lab, st->profile, err, sizeof(err));
			if (e)
				harness(s, V_ERROR, "apply %s: %s", st->profile, err);
			step_log(s, name, e ? "failed: %s" : "done", err);
			break;
		case CONFORM_STEP_SLEEP:
			wait_for(s, NULL, NULL, (uint64_t)(st->seconds * 1000));
			step_log(s, name, "slept %.1f s", st->seconds);
			break;
		case CONFORM_STEP_STOP:
			stop_endpoint(s, "stop step");
			step_log(s, name, "endpoint stopped");
			break;
		}
	}
	if (s->deadline && now_ms() >= s->deadline && !interrupted)
		harness(s, V_FAIL, "the scenario deadline of %.0f s passed during step %s",
		        conform_scenario_deadline(sc) > 0 ? conform_scenario_deadline(sc)
		                                          : DEFAULT_DEADLINE_S,
		        s->cur_step ? s->cur_step : "start");
	if (interrupted)
		harness(s, V_ERROR, "interrupted (SIGINT/SIGTERM): the lab was torn down");
	s->cur_step = "teardown";
}

/* ---- judgement ------------------------------------------------------------------------------ */

static void caps_list(unsigned caps, const char **out, size_t n)
{
	size_t k = 0;
	for (unsigned bit = 1; bit && k + 1 < n; bit <<= 1)
		if (caps & bit && adapter_cap_name(bit))
			out[k++] = adapter_cap_name(bit);
	out[k] = NULL;
}

/* Judges the scenario over its captures and journals; returns the checks (new reference). */
static json_t *judge(struct scen *s, const json_t *artifacts, int with_data)
{
	struct conform_timeline *t = NULL;
	struct conform_results *r = NULL;
	const char *caps[8];
	char err[512], path[PATH_MAX];
	json_t *checks = NULL, *a;
	size_t i;
	int e;

	if ((e = conform_timeline_alloc(&t, NULL))) {
		harness(s, V_ERROR, "timeline: %s", strerror(e));
		goto out;
	}
	json_array_foreach((json_t *)artifacts, i, a)
	{
		const char *kind = json_string_value(json_object_get(a, "kind"));
		pathf(path, sizeof(path), "%s/%s", s->dir,
		      json_string_value(json_object_get(a, "path")));
		if (!with_data)
			break;
		if (!strcmp(kind, "capture"))
			e = conform_timeline_add_pcap(t, path,
			                              json_string_value(json_object_get(a, "name")),
			                              err, sizeof(err));
		else if (!strcmp(kind, "journal"))
			e = conform_timeline_add_journal(
			        t, path, json_string_value(json_object_get(a, "service")), err,
			        sizeof(err));
		else
			continue;
		if (e) {
			harness(s, V_ERROR, "reading %s: %s", path, err);
			goto out;
		}
	}
	pathf(path, sizeof(path), "%s/timeline.json", s->dir);
	if (conform_timeline_save(t, path, err, sizeof(err)))
		log_warnx("%s", err);
	caps_list(adapter_caps(s->sp->ad), caps, ARRAY_SIZE(caps));
	if ((e = conform_analyze(&r, s->sp->sc, t, caps))) {
		harness(s, V_ERROR, "judging: %s", strerror(e));
		goto out;
	}
	json_t *rj = conform_results_json(r);
	checks = json_incref(json_object_get(rj, "checks"));
	json_decref(rj);
	/* Our verdict vocabulary: "n/a" is "na" (it is also a CSS class in the report). */
	json_array_foreach(checks, i, a)
	{
		if (!strcmp(json_string_value(json_object_get(a, "verdict")) ?: "", "n/a"))
			json_object_set_new(a, "verdict", json_string(V_NA));
		if (json_is_null(json_object_get(a, "reason")))
			json_object_del(a, "reason");
	}
out:
	conform_results_free(r);
	conform_timeline_free(t);
	return checks ? checks : json_array();
}

static const char *scenario_verdict(const struct scen *s, const json_t *checks)
{
	const json_t *c;
	size_t i;
	int fail = 0, pass = 0;

	if (s->hverdict[0])
		return s->hverdict;
	json_array_foreach(checks, i, c)
	{
		const char *v = json_string_value(json_object_get(c, "verdict")) ?: "";
		if (!strcmp(v, V_PASS))
			pass++;
		else if (strcmp(v, V_NA))
			fail++; /* a check that could not be evaluated is not a pass */
	}
	return fail ? V_FAIL : pass ? V_PASS : V_NA;
}

/* ---- the scenario ---------------------------------------------------------------------------- */

static int caps_missing(const struct scen *s, char *which, size_t len)
{
	const char *const *req = conform_scenario_requires(s->sp->sc);
	for (size_t i = 0; req && req[i]; i++) {
		if (!(adapter_caps(s->sp->ad) & adapter_cap_parse(req[i]))) {
			snprintf(which, len, "%s", req[i]);
			return 1;
		}
	}
	return 0;
}

static void add_journal_artifacts(struct scen *s, json_t *art)
{
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < s->nsvc; i++) {
		const char *base = strrchr(s->svc[i].journal, '/');
		if (!base || stat(s->svc[i].journal, &st))
			continue;
		json_array_append_new(art,
		                      json_pack("{s:s,s:s,s:s}", "kind", "journal", "name",
		                                s->svc[i].name, "path", base + 1));
	}
	pathf(path, sizeof(path), "%s/endpoint.jsonl", s->dir);
	if (!stat(path, &st) && st.st_size > 0)
		json_array_append_new(art,
		                      json_pack("{s:s,s:s,s:s,s:s}", "kind", "journal", "name",
		                                "endpoint", "path", "endpoint.jsonl", "service",
		                                adapter_name(s->sp->ad)));
	else if (!pathf(path, sizeof(path), "%s/endpoint.log", s->dir) && !stat(path, &st) &&
	         st.st_size > 0)
		/* Status lines on stdout are the endpoint's journal when it keeps no other. */
		json_array_append_new(art,
		                      json_pack("{s:s,s:s,s:s,s:s}", "kind", "journal", "name",
		                                "endpoint stdout", "path", "endpoint.log",
		                                "service", adapter_name(s->sp->ad)));
	static const char *const logs[] = {
	        "endpoint.log",      "endpoint.stderr.log",  "mock-oam.log",
	        "mock-sip.log",      "mock-sip-private.log", "mock-sip-public.log",
	        "mock-teamlink.log", "endpoint.cmdline",     "keys.log"};
	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		pathf(path, sizeof(path), "%s/%s", s->dir, logs[i]);
		if (!stat(path, &st))
			json_array_append_new(art,
			                      json_pack("{s:s,s:s,s:s}", "kind", "log", "name",
			                                logs[i], "path", logs[i]));
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scenario's scratch folder: RUNDIR_DIR/RUNDIR_NAME followed by its lab prefix. */
#define RUNDIR_DIR "/tmp"
#define RUNDIR_NAME "onsight-conform."

void scen_gc_rundirs(void)
{
	DIR *d = opendir(RUNDIR_DIR);
	struct dirent *e;
	time_t now = time(NULL);
	const size_t pl = strlen(RUNDIR_NAME);

	while (d && (e = readdir(d))) {
		char dir[PATH_MAX], state[PATH_MAX];
		struct stat st;
		if (strncmp(e->d_name, RUNDIR_NAME, pl))
			continue;
		pathf(dir, sizeof(dir), RUNDIR_DIR "/%s", e->d_name);
		pathf(state, sizeof(state), "%s/%.64s.json", FWLAB_STATE_DIR, e->d_name + pl);
		if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || now - st.st_mtime < 60 ||
		    !access(state, F_OK))
			continue;
		rm_tree(dir);
		if (access(dir, F_OK))
			printf("removed run folder %s\n", dir);
	}
	if (d)
		closedir(d);
}

static void setup_sigs(void)
{
	int p[2];
	struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART};

	if (sig_r < 0 && !pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		sig_r = p[0];
		sig_w = p[1];
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

static void lab_phase(struct scen *s, json_t *art, const char *accounts)
{
	const struct conform_scenario *sc = s->sp->sc;
	const json_t *lab = conform_scenario_lab(sc);
	const char *start = json_string_value(json_object_get(lab, "start")) ?: "inside";
	char err[512];
	int e;
	double dl = conform_scenario_deadline(sc) > 0 ? conform_scenario_deadline(sc)
	                                              : DEFAULT_DEADLINE_S;

	s->cur_step = "lab up";
	e = fwlab_up(&s->lab, conform_scenario_profile(sc), s->sp->prefix, err, sizeof(err));
	if (e) {
		harness(s, V_ERROR, "lab up (profile %s): %s", conform_scenario_profile(sc), err);
		return;
	}
	if (!strcmp(start, "outside") && (e = fwlab_migrate(s->lab, "outside"))) {
		harness(s, V_ERROR, "migrate outside before start: %s", strerror(e));
		goto down;
	}
	s->cur_step = "services";
	if (start_services(s, accounts) || start_captures(s))
		goto stop;
	s->cur_step = "endpoint start";
	if (start_endpoint(s))
		goto stop;
	s->deadline = s->t0 + (uint64_t)(dl * 1000);
	s->cur_step = "readiness";
	if (!wait_for(s, pred_ready, NULL, (uint64_t)adapter_ready_timeout_s(s->sp->ad) * 1000) ||
	    !s->ready) {
		if (!s->ep_exited && !must_abort(s))
			step_log(s, "ready", "not ready after %d s; the steps run anyway",
			         adapter_ready_timeout_s(s->sp->ad));
	} else {
		step_log(s, "ready", "ready after %.2f s", since_s(s));
	}
	if (!must_abort(s))
		run_steps(s);
stop:
	s->cur_step = "teardown";
	stop_endpoint(s, "end of scenario");
	/* Read what the endpoint wrote last before its pipe goes away. */
	for (int i = 0; i < 64 && s->ep_out >= 0; i++)
		pump(s, 20);
	stop_services(s);
	stop_captures_convert(s, art);
down:
	if (s->sp->keep_lab) {
		log_info("%s: lab %s kept (mock-firewall down --prefix %s removes it)",
		         conform_scenario_id(sc), fwlab_prefix(s->lab), fwlab_prefix(s->lab));
		/* The scenario process ends now; hand the lab to nobody, gc leaves it while
		 * the runner's parent lives. */
		fwlab_set_owner(s->lab, getppid());
		fwlab_detach(s->lab);
	} else if ((e = fwlab_down(s->lab))) {
		harness(s, V_ERROR, "lab down: %s (mock-firewall gc cleans up)", strerror(e));
	}
	s->lab = NULL;
}

json_t *scen_run(const struct scen_spec *sp)
{
	struct scen *s = calloc(1, sizeof(*s));
	const struct conform_scenario *sc = sp->sc;
	json_t *res = NULL, *art = json_array(), *checks = NULL;
	char accounts[PATH_MAX], err[512], missing[32], keys[PATH_MAX];
	uint64_t started = now_ms();
	int ran = 0;

	if (!s || !art)
		goto oom;
	s->sp = sp;
	s->ep_out = s->ep_logfd = s->ino = -1;
	s->counts = json_object();
	s->steps = json_array();
	pathf(s->dir, sizeof(s->dir), "%s/%s", sp->outdir, sp->dir);
	pathf(s->rundir, sizeof(s->rundir), RUNDIR_DIR "/" RUNDIR_NAME "%s", sp->prefix);
	pathf(keys, sizeof(keys), "%s/keys", s->dir);
	/* A rerun into the same --out must not show the last run's files. */
	rm_tree(s->dir);
	mkdir(s->dir, 0755);
	mkdir(keys, 0755);
	mkdir(s->rundir, 0700);
	setup_sigs();
	if (caps_missing(s, missing, sizeof(missing))) {
		/* Judged without running: every check is n/a with the reason. */
		checks = judge(s, art, 0);
		goto done;
	}
	pathf(accounts, sizeof(accounts), "%s/accounts.json", s->dir);
	if (scen_write_accounts(sp->accounts, conform_scenario_account(sc),
	                        json_object_get(conform_scenario_lab(sc), "config"), accounts,
	                        &s->account, err, sizeof(err))) {
		harness(s, V_ERROR, "%s", err);
		goto done;
	}
	snprintf(s->sip_user, sizeof(s->sip_user), "%s",
	         cfg_str(s->account, "sip", "auth_user", NULL) ?: "");
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino >= 0)
		inotify_add_watch(s->ino, s->dir, IN_MODIFY);
	{
		char lp[PATH_MAX];
		pathf(lp, sizeof(lp), "%s/endpoint.log", s->dir);
		s->ep_logfd = open(lp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	lab_phase(s, art, accounts);
	ran = 1;
	add_journal_artifacts(s, art);
	if (strcmp(s->hverdict, V_ERROR) && strcmp(s->hverdict, V_NOT_STARTED))
		checks = judge(s, art, 1);
done:
	if (!checks)
		checks = json_array();
	json_array_append_new(art,
	                      json_pack("{s:s,s:s,s:s}", "kind", "timeline", "name", "timeline",
	                                "path", "timeline.json"));
	res = json_pack("{s:s,s:s,s:s,s:o,s:s,s:f,s:o,s:o}", "id", conform_scenario_id(sc), "title",
	                conform_scenario_title(sc) ?: "", "verdict", scenario_verdict(s, checks),
	                "note", json_array(), "dir", sp->dir, "duration_s",
	                (double)(now_ms() - started) / 1000.0, "checks", checks, "steps",
	                s->steps ? json_incref(s->steps) : json_array());
	if (!res)
		goto oom;
	for (const char *const *n = conform_scenario_note(sc); n && *n; n++)
		json_array_append_new(json_object_get(res, "note"), json_string(*n));
	json_object_set(res, "artifacts", art);
	if (sp->fault)
		json_object_set_new(res, "fault", json_string(sp->fault));
	if (!ran)
		json_object_set_new(
		        res, "reason",
		        json_sprintf("not applicable: capability %s not declared", missing));
	if (s->hverdict[0]) {
		json_object_set_new(
		        res, "harness",
		        json_pack("{s:s,s:s}", "verdict", s->hverdict, "reason", s->hreason));
		json_object_set_new(res, "reason", json_string(s->hreason));
	}
	goto out;
oom:
	res = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "id", conform_scenario_id(sc), "dir", sp->dir,
	                "verdict", V_ERROR, "harness", "verdict", V_ERROR, "reason",
	                "out of memory");
out:
	if (s) {
		if (s->ep_out >= 0)
			close(s->ep_out);
		if (s->ep_logfd >= 0)
			close(s->ep_logfd);
		if (s->ino >= 0)
			close(s->ino);
		json_decref(s->counts);
		json_decref(s->steps);
		json_decref(s->account);
		for (size_t i = 0; i < s->nsvc; i++)
			if (s->svc[i].ctl[0])
				unlink(s->svc[i].ctl);
		rmdir(s->rundir);
		free(s);
	}
	json_decref(art);
	return res;
}
