/* scen.c - one scenario end to end (scen.h): its life cycle. One thread; every wait is a
 * poll() on the endpoint's stdout, an inotify watch on the scenario directory (journals) and a
 * self-pipe fed by SIGCHLD, bounded by the step's timeout and the scenario's hard deadline
 * (watch.c). The lab's parts have a module each: services.c (the mock cloud), capset.c
 * (captures), endpoint.c, steps.c, judge.c, gc.c. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "adapter.h"
#include "fwlab.h"
#include "hosts.h"
#include "onsight/jsoncfg.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* snprintf for paths: truncation is detected by the caller's later open(), never silent
 * memory damage; the wrapper keeps gcc's truncation warnings for literal buffers quiet. */
int scen_pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}

int scen_sig_r = -1;
static int scen_sig_w = -1;
volatile sig_atomic_t scen_interrupted;

static void on_sigchld(int sig)
{
	int saved = errno;
	char c = (char)sig;
	if (scen_sig_w >= 0 && write(scen_sig_w, &c, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

void scen_interrupt(void)
{
	scen_interrupted = 1;
	on_sigchld(SIGTERM);
}

uint64_t scen_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double scen_since_s(const struct scen *s)
{
	return s->t0 ? (double)(scen_now_ms() - s->t0) / 1000.0 : 0;
}

void scen_harness(struct scen *s, const char *verdict, const char *fmt, ...)
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

void scen_step_log(struct scen *s, const char *step, const char *fmt, ...)
{
	char out[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	json_array_append_new(
	        s->steps,
	        json_pack("{s:f,s:s,s:s}", "t", scen_since_s(s), "step", step, "outcome", out));
	if (s->sp->verbose)
		log_info("%s: %s: %s", conform_scenario_id(s->sp->sc), step, out);
}

void scen_count(struct scen *s, const char *ev)
{
	json_int_t n = json_integer_value(json_object_get(s->counts, ev));
	json_object_set_new(s->counts, ev, json_integer(n + 1));
}

json_int_t scen_counted(const struct scen *s, const char *ev)
{
	return json_integer_value(json_object_get(s->counts, ev));
}

const char *scen_status_str(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
		         strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	return buf;
}

/* ---- files ------------------------------------------------------------------------------ */

int scen_write_text(const char *path, const char *text, mode_t mode)
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
	scen_pathf(path, sizeof(path), "%s/endpoint.jsonl", s->dir);
	if (!stat(path, &st) && st.st_size > 0)
		json_array_append_new(art,
		                      json_pack("{s:s,s:s,s:s,s:s}", "kind", "journal", "name",
		                                "endpoint", "path", "endpoint.jsonl", "service",
		                                adapter_name(s->sp->ad)));
	else if (!scen_pathf(path, sizeof(path), "%s/endpoint.log", s->dir) && !stat(path, &st) &&
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
		scen_pathf(path, sizeof(path), "%s/%s", s->dir, logs[i]);
		if (!stat(path, &st))
			json_array_append_new(art,
			                      json_pack("{s:s,s:s,s:s}", "kind", "log", "name",
			                                logs[i], "path", logs[i]));
	}
}

static void setup_sigs(void)
{
	int p[2];
	struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART};

	if (scen_sig_r < 0 && !pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		scen_sig_r = p[0];
		scen_sig_w = p[1];
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
		scen_harness(s, V_ERROR, "lab up (profile %s): %s", conform_scenario_profile(sc),
		             err);
		return;
	}
	if (!strcmp(start, "outside") && (e = fwlab_migrate(s->lab, "outside"))) {
		scen_harness(s, V_ERROR, "migrate outside before start: %s", strerror(e));
		goto down;
	}
	s->cur_step = "services";
	if (scen_services_start(s, accounts) || scen_captures_start(s))
		goto stop;
	s->cur_step = "endpoint start";
	if (scen_endpoint_start(s))
		goto stop;
	s->deadline = s->t0 + (uint64_t)(dl * 1000);
	s->cur_step = "readiness";
	if (!scen_wait_for(s, scen_pred_ready, NULL,
	                   (uint64_t)adapter_ready_timeout_s(s->sp->ad) * 1000) ||
	    !s->ready) {
		if (!s->ep_exited && !scen_must_abort(s))
			scen_step_log(s, "ready", "not ready after %d s; the steps run anyway",
			              adapter_ready_timeout_s(s->sp->ad));
	} else {
		scen_step_log(s, "ready", "ready after %.2f s", scen_since_s(s));
	}
	if (!scen_must_abort(s))
		scen_steps_run(s);
stop:
	s->cur_step = "teardown";
	scen_endpoint_stop(s, "end of scenario");
	/* Read what the endpoint wrote last before its pipe goes away. */
	for (int i = 0; i < 64 && s->ep_out >= 0; i++)
		scen_pump(s, 20);
	scen_services_stop(s);
	scen_captures_stop(s, art);
down:
	if (s->sp->keep_lab) {
		log_info("%s: lab %s kept (mock-firewall down --prefix %s removes it)",
		         conform_scenario_id(sc), fwlab_prefix(s->lab), fwlab_prefix(s->lab));
		/* The scenario process ends now; hand the lab to nobody, gc leaves it while
		 * the runner's parent lives. */
		fwlab_set_owner(s->lab, getppid());
		fwlab_detach(s->lab);
	} else if ((e = fwlab_down(s->lab))) {
		scen_harness(s, V_ERROR, "lab down: %s (mock-firewall gc cleans up)", strerror(e));
	}
	s->lab = NULL;
}

/* The scenario's folder (emptied: a rerun into the same --out must not show the last run's
 * files), its scratch folder, and the address plan its lab is built from: the judge (and a
 * later `analyze`) names the addresses in the evidence with it. */
static int prepare_folders(struct scen *s, json_t *art)
{
	char path[PATH_MAX];
	int e;

	scen_pathf(s->dir, sizeof(s->dir), "%s/%s", s->sp->outdir, s->sp->dir);
	scen_pathf(s->rundir, sizeof(s->rundir), RUNDIR_DIR "/" RUNDIR_NAME "%s", s->sp->prefix);
	scen_rm_tree(s->dir);
	mkdir(s->dir, 0755);
	scen_pathf(path, sizeof(path), "%s/keys", s->dir);
	mkdir(path, 0755);
	mkdir(s->rundir, 0700);
	scen_pathf(path, sizeof(path), "%s/hosts.json", s->dir);
	if ((e = hosts_plan_write(path, NULL))) {
		scen_harness(s, V_ERROR, "%s: %s", path, strerror(e));
		return e;
	}
	json_array_append_new(
	        art,
	        json_pack("{s:s,s:s,s:s}", "kind", "plan", "name", "hosts", "path", "hosts.json"));
	return 0;
}

/* The account file the mock services read, and the watches the waits need. */
static int prepare_run(struct scen *s, char *accounts, size_t len)
{
	const struct conform_scenario *sc = s->sp->sc;
	char err[512], lp[PATH_MAX];

	scen_pathf(accounts, len, "%s/accounts.json", s->dir);
	if (scen_write_accounts(s->sp->accounts, conform_scenario_account(sc),
	                        json_object_get(conform_scenario_lab(sc), "config"), accounts,
	                        &s->account, err, sizeof(err))) {
		scen_harness(s, V_ERROR, "%s", err);
		return EINVAL;
	}
	snprintf(s->sip_user, sizeof(s->sip_user), "%s",
	         scen_cfg_str(s->account, "sip", "auth_user", NULL) ?: "");
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino >= 0)
		inotify_add_watch(s->ino, s->dir, IN_MODIFY);
	scen_pathf(lp, sizeof(lp), "%s/endpoint.log", s->dir);
	s->ep_logfd = open(lp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return 0;
}

/* The scenario result (see conformance/README.md); takes checks. missing: the capability
 * that kept the scenario from running, or NULL. */
static json_t *result(struct scen *s, json_t *checks, json_t *art, double secs, const char *missing)
{
	const struct conform_scenario *sc = s->sp->sc;
	json_t *res;

	res = json_pack("{s:s,s:s,s:s,s:o,s:s,s:f,s:o,s:o}", "id", conform_scenario_id(sc), "title",
	                conform_scenario_title(sc) ?: "", "verdict", scen_verdict(s, checks),
	                "note", json_array(), "dir", s->sp->dir, "duration_s", secs, "checks",
	                checks, "steps", s->steps ? json_incref(s->steps) : json_array());
	if (!res)
		return NULL;
	for (const char *const *n = conform_scenario_note(sc); n && *n; n++)
		json_array_append_new(json_object_get(res, "note"), json_string(*n));
	json_object_set(res, "artifacts", art);
	if (s->sp->fault)
		json_object_set_new(res, "fault", json_string(s->sp->fault));
	if (missing)
		json_object_set_new(
		        res, "reason",
		        json_sprintf("not applicable: capability %s not declared", missing));
	if (s->pverdict[0]) {
		json_object_set_new(res, "precondition",
		                    json_pack("{s:s,s:s}", "step", s->pstep, "reason", s->preason));
		json_object_set_new(res, "reason",
		                    json_sprintf("step %s failed: %s", s->pstep, s->preason));
	}
	if (s->hverdict[0]) {
		json_object_set_new(
		        res, "harness",
		        json_pack("{s:s,s:s}", "verdict", s->hverdict, "reason", s->hreason));
		json_object_set_new(res, "reason", json_string(s->hreason));
	}
	return res;
}

static void scen_free(struct scen *s)
{
	if (!s)
		return;
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
	if (s->rundir[0])
		rmdir(s->rundir);
	free(s);
}

json_t *scen_run(const struct scen_spec *sp)
{
	struct scen *s = calloc(1, sizeof(*s));
	const struct conform_scenario *sc = sp->sc;
	json_t *res = NULL, *art = json_array(), *checks = NULL;
	char accounts[PATH_MAX], missing[32] = "";
	uint64_t started = scen_now_ms();
	int ran = 0;

	if (!s || !art)
		goto oom;
	s->sp = sp;
	s->ep_out = s->ep_logfd = s->ino = -1;
	s->counts = json_object();
	s->steps = json_array();
	setup_sigs();
	if (prepare_folders(s, art))
		goto done;
	if (caps_missing(s, missing, sizeof(missing))) {
		/* Judged without running: every check is n/a with the reason. */
		checks = scen_judge(s, art, 0);
		goto done;
	}
	if (prepare_run(s, accounts, sizeof(accounts)))
		goto done;
	lab_phase(s, art, accounts);
	ran = 1;
	add_journal_artifacts(s, art);
	if (strcmp(s->hverdict, V_ERROR) && strcmp(s->hverdict, V_NOT_STARTED))
		checks = scen_judge(s, art, 1);
done:
	json_array_append_new(art,
	                      json_pack("{s:s,s:s,s:s}", "kind", "timeline", "name", "timeline",
	                                "path", "timeline.json"));
	res = result(s, checks ? checks : json_array(), art,
	             (double)(scen_now_ms() - started) / 1000.0,
	             !ran && !s->hverdict[0] ? missing : NULL);
	if (res)
		goto out;
oom:
	res = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "id", conform_scenario_id(sc), "dir", sp->dir,
	                "verdict", V_ERROR, "harness", "verdict", V_ERROR, "reason",
	                "out of memory");
out:
	scen_free(s);
	json_decref(art);
	return res;
}
