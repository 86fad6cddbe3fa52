/* endpoint.c - the endpoint under test: started through its adapter in the lab's ep
 * namespace, stopped with its adapter's signal and grace period. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "adapter.h"
#include "fwlab.h"
#include "onsight/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

const char *scen_cfg_str(const json_t *acc, const char *a, const char *b, const char *c)
{
	const json_t *j = json_object_get(json_object_get(acc, "config"), a);
	if (b)
		j = json_object_get(j, b);
	if (c)
		j = json_object_get(j, c);
	return json_string_value(j);
}

/* The storage behind a scenario's adapter placeholders. */
struct ep_values {
	char work[PATH_MAX], pwfile[PATH_MAX], events[PATH_MAX], keylog[PATH_MAX], ca[PATH_MAX];
	char proxy[300], server[300], domain[128], after[32], hold[32];
};

/* "HOST:PORT" of an account's {"host", "port"} object into out ("" when it is none). */
static void host_port(const json_t *hp, char *out, size_t len)
{
	out[0] = '\0';
	if (json_is_object(hp))
		snprintf(out, len, "%s:%d", json_string_value(json_object_get(hp, "host")) ?: "",
		         (int)json_integer_value(json_object_get(hp, "port")));
}

/* Fills the placeholders from the scenario and its account; writes the password file. */
static int ep_vars(struct scen *s, struct ep_values *b, struct adapter_vars *v)
{
	const json_t *acc = s->account, *cfg = json_object_get(acc, "config");
	const json_t *lab = conform_scenario_lab(s->sp->sc);
	const char *start = json_string_value(json_object_get(lab, "start")) ?: "inside";
	const char *pw = json_string_value(json_object_get(acc, "password")) ?: "";
	const char *sip_uri = scen_cfg_str(acc, "user", "sip_uri", NULL);
	const char *at = sip_uri ? strchr(sip_uri, '@') : NULL;
	char pwline[512];
	int e;

	scen_pathf(b->work, sizeof(b->work), "%s/endpoint", s->dir);
	mkdir(b->work, 0700);
	scen_pathf(b->pwfile, sizeof(b->pwfile), "%s/password", b->work);
	scen_pathf(b->events, sizeof(b->events), "%s/endpoint.jsonl", s->dir);
	scen_pathf(b->keylog, sizeof(b->keylog), "%s/keys/endpoint.keys", s->dir);
	scen_pathf(b->ca, sizeof(b->ca), "%s/ca.pem", s->sp->certs);
	snprintf(pwline, sizeof(pwline), "%s\n", pw);
	if ((e = scen_write_text(b->pwfile, pwline, 0600))) {
		scen_harness(s, V_ERROR, "%s: %s", b->pwfile, strerror(e));
		return e;
	}
	/* The device's web proxy setting only makes sense on the LAN that has the proxy. */
	host_port(!strcmp(start, "inside")
	                  ? json_object_get(json_object_get(cfg, "teamlink"), "proxy")
	                  : NULL,
	          b->proxy, sizeof(b->proxy));
	host_port(json_object_get(json_object_get(cfg, "sip"), "public"), b->server,
	          sizeof(b->server));
	snprintf(b->domain, sizeof(b->domain), "%s", at ? at + 1 : "");
	snprintf(b->after, sizeof(b->after), "%.0f", call_after(s->sp->sc));
	snprintf(b->hold, sizeof(b->hold), "%.0f", call_hold(s->sp->sc));
	v->oam_url = "https://onsight.librestream.com";
	v->username = json_string_value(json_object_get(acc, "username"));
	v->password = pw;
	v->password_file = b->pwfile;
	v->ca_file = b->ca;
	v->proxy = b->proxy;
	v->workdir = b->work;
	v->call_uri = call_uri(s->sp->sc);
	v->call_after = v->call_uri ? b->after : NULL;
	v->call_hold = v->call_uri ? b->hold : NULL;
	v->events = b->events;
	v->keylog = b->keylog;
	v->sip_uri = sip_uri;
	v->sip_user = scen_cfg_str(acc, "sip", "auth_user", NULL);
	v->sip_password = scen_cfg_str(acc, "sip", "auth_password", NULL);
	v->sip_domain = b->domain;
	v->sip_server = b->server;
	v->sip_transport = scen_cfg_str(acc, "sip", "transport", NULL);
	v->fault = s->sp->fault;
	return 0;
}

/* endpoint.cmdline: the exact command line, for whoever debugs the adapter. */
static void write_cmdline(const struct scen *s, char *const *argv)
{
	char cmd[PATH_MAX], cpath[PATH_MAX];
	size_t used = 0;

	for (size_t i = 0; argv[i] && used < sizeof(cmd) - 2; i++)
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "",
		                         argv[i]);
	scen_pathf(cpath, sizeof(cpath), "%s/endpoint.cmdline", s->dir);
	strcat(cmd, "\n");
	if (scen_write_text(cpath, cmd, 0644))
		log_warnx("%s: cannot write", cpath);
}

int scen_endpoint_start(struct scen *s)
{
	const struct adapter *ad = s->sp->ad;
	struct adapter_vars v = {0};
	struct ep_values *b = calloc(1, sizeof(*b));
	char err[512];
	char **argv = NULL, **env = NULL;
	int pfd[2] = {-1, -1}, errfd = -1, e;

	if (!b)
		return ENOMEM;
	if ((e = ep_vars(s, b, &v)))
		goto out;
	if ((e = adapter_write_files(ad, &v, err, sizeof(err))) ||
	    (e = adapter_argv(ad, &v, &argv, err, sizeof(err))) ||
	    (e = adapter_envv(ad, &v, &env, err, sizeof(err)))) {
		scen_harness(s, V_NOT_STARTED, "%s", err);
		goto out;
	}
	/* fwlab_spawn passes our environment on: the adapter's variables go there. */
	for (size_t i = 0; env[i]; i++)
		putenv(env[i]);
	write_cmdline(s, argv);
	if (pipe2(pfd, O_CLOEXEC)) {
		e = errno;
		scen_harness(s, V_ERROR, "pipe: %s", strerror(e));
		goto out;
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	errfd = scen_open_log(s, "endpoint.stderr");
	e = fwlab_spawn(s->lab, "ep", argv, pfd[1], errfd, &s->ep_pid);
	if (e) {
		scen_harness(s, V_NOT_STARTED, "cannot start %s: %s", argv[0], strerror(e));
		goto out;
	}
	s->ep_out = pfd[0];
	pfd[0] = -1;
	s->t0 = scen_now_ms();
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
	free(b);
	return e;
}

void scen_endpoint_stop(struct scen *s, const char *why)
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
	int gone = scen_wait_for(s, scen_pred_ep_exited, NULL, (uint64_t)adapter_stop_grace_ms(ad));
	s->deadline = save;
	if (!gone) {
		kill(s->ep_pid, SIGKILL);
		waitpid(s->ep_pid, &s->ep_status, 0);
		s->ep_exited = 1;
		scen_harness(s, V_FAIL,
		             "the endpoint hung: still running %d ms after SIG%s (%s); killed",
		             adapter_stop_grace_ms(ad), sigabbrev_np(sig) ?: "?", why);
		return;
	}
	if (WIFSIGNALED(s->ep_status) && WTERMSIG(s->ep_status) != sig)
		scen_harness(s, V_FAIL, "the endpoint crashed while stopping (%s)",
		             scen_status_str(s->ep_status, st, sizeof(st)));
}
