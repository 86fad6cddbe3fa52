/* runner.c - `run` and `selftest` (DESIGN §5): each scenario is a job in its own process
 * with its own lab prefix; up to --jobs run side by side. The parent only schedules, shows
 * progress, enforces a backstop deadline (SIGKILL + fwlab_gc) and writes the reports. */
#define LOG_TAG "runner"
#include "runner.h"

#include "adapter.h"
#include "conform/analysis.h"
#include "fwlab.h"
#include "onsight/journal.h"
#include "onsight/jsoncfg.h"
#include "onsight/log.h"
#include "onsight/util.h"
#include "report.h"
#include "scen.h"
#include "selftest.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define BACKSTOP_EXTRA_MS 90000 /* lab up + teardown + judging beyond the scenario deadline */
#define INTERRUPT_WAIT_MS 30000

struct job {
	const struct conform_scenario *sc;
	char fault[64];
	char dir[PATH_MAX];
	char prefix[FWLAB_PREFIX_MAX + 1];
	pid_t pid;
	uint64_t started, backstop;
	int state; /* 0 pending, 1 running, 2 done */
	json_t *result;
};

struct ctx {
	const struct run_opts *o;
	struct adapter *ad;
	char adapter_path[PATH_MAX];
	char out[PATH_MAX];
	char certs[PATH_MAX], secret[PATH_MAX], accounts[PATH_MAX], tooldirs[4 * PATH_MAX];
	struct conform_scenario **all;
	size_t nall;
	struct job *jobs;
	size_t njobs;
	char started_iso[40];
	uint64_t t0;
};

static int pipe_r = -1, pipe_w = -1;
static volatile sig_atomic_t got_stop;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;
	if (sig == SIGINT || sig == SIGTERM)
		got_stop = 1;
	if (pipe_w >= 0 && write(pipe_w, &c, 1) < 0) {
		/* full pipe: a wake-up is pending anyway */
	}
	errno = saved;
}

static void on_child_stop(int sig)
{
	(void)sig;
	scen_interrupt();
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *runner_source_dir(void)
{
	const char *e = getenv("ONSIGHT_SOURCE_DIR");
	return e && *e ? e : ONSIGHT_SOURCE_DIR;
}

int runner_parse_shard(const char *s, int *i, int *n)
{
	char *end;
	long a, b;

	if (!s)
		return EINVAL;
	a = strtol(s, &end, 10);
	if (end == s || *end != '/')
		return EINVAL;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end || a < 1 || b < 1 || a > b || b > 1000)
		return EINVAL;
	*i = (int)a;
	*n = (int)b;
	return 0;
}

int runner_write_reports(json_t *r, const char *out, const char *json, const char *junit,
                         const char *html)
{
	char p[PATH_MAX];
	int e;

	results_finish(r);
	pathf(p, sizeof(p), "%s/results.json", out);
	if ((e = report_write_json(r, json ? json : p))) {
		log_errx("%s: %s", json ? json : p, strerror(e));
		return e;
	}
	pathf(p, sizeof(p), "%s/junit.xml", out);
	if ((e = report_write_junit(r, junit ? junit : p))) {
		log_errx("%s: %s", junit ? junit : p, strerror(e));
		return e;
	}
	pathf(p, sizeof(p), "%s/report.html", out);
	if ((e = report_write_html(r, out, html ? html : p))) {
		log_errx("%s: %s", html ? html : p, strerror(e));
		return e;
	}
	return 0;
}

int runner_mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return errno;
	return 0;
}

/* Runs a program and waits; 0 when it exits 0. */
static int run_wait(char *const argv[], int quiet)
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : EIO;
}

/* Directories of the built programs: <build>/<component>/ next to our own <build>/conformance. */
static void find_tooldirs(struct ctx *c)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	static const char *const comps[] = {"mock-oam", "mock-sip", "mock-teamlink", "endpoint",
	                                    "mock-firewall"};
	size_t used = 0;

	c->tooldirs[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *d = dirname(dirname(exe));
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++) {
		int w = snprintf(c->tooldirs + used, sizeof(c->tooldirs) - used, "%s%s/%s",
		                 used ? ":" : "", d, comps[i]);
		if (w < 0 || (size_t)w >= sizeof(c->tooldirs) - used)
			break;
		used += (size_t)w;
	}
}

static int setup(struct ctx *c)
{
	const struct run_opts *o = c->o;
	char err[512], why[512];
	int e;

	c->t0 = now_ms();
	journal_timestamp(c->started_iso, sizeof(c->started_iso));
	snprintf(c->out, sizeof(c->out), "%s", o->out ? o->out : "out");
	if (o->adapter_path)
		snprintf(c->adapter_path, sizeof(c->adapter_path), "%s", o->adapter_path);
	else
		pathf(c->adapter_path, sizeof(c->adapter_path),
		      "%s/conformance/adapters/onsight-ref.json", runner_source_dir());
	if ((e = adapter_load(&c->ad, c->adapter_path, err, sizeof(err)))) {
		fprintf(stderr, "onsight-conform: %s\n", err);
		return EXIT_USAGE;
	}
	if ((e = conform_scenario_load_dir(&c->all, &c->nall, conform_scenario_default_dir(), err,
	                                   sizeof(err)))) {
		fprintf(stderr, "onsight-conform: %s\n", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < o->nids; i++) {
		size_t k;
		for (k = 0; k < c->nall; k++)
			if (!strcmp(conform_scenario_id(c->all[k]), o->ids[i]))
				break;
		if (k == c->nall) {
			fprintf(stderr,
			        "onsight-conform: no scenario \"%s\" (onsight-conform list shows "
			        "them)\n",
			        o->ids[i]);
			return EXIT_USAGE;
		}
	}
	if ((e = fwlab_available(why, sizeof(why)))) {
		fprintf(stderr, "onsight-conform: the lab cannot run here: %s\n", why);
		return EXIT_HARNESS;
	}
	if ((e = runner_mkdirs(c->out))) {
		fprintf(stderr, "onsight-conform: %s: %s\n", c->out, strerror(e));
		return EXIT_USAGE;
	}
	/* Everything below is handed to processes in other namespaces: absolute paths. */
	char *abs = realpath(c->out, NULL);
	if (!abs)
		return EXIT_HARNESS;
	snprintf(c->out, sizeof(c->out), "%s", abs);
	free(abs);
	pathf(c->certs, sizeof(c->certs), "%s/certs", c->out);
	char mk[PATH_MAX];
	pathf(mk, sizeof(mk), "%s/scripts/mkcerts", runner_source_dir());
	char *mkargv[] = {mk, c->certs, NULL};
	if (run_wait(mkargv, 1)) {
		fprintf(stderr, "onsight-conform: %s %s failed\n", mk, c->certs);
		return EXIT_HARNESS;
	}
	pathf(c->secret, sizeof(c->secret), "%s/jwt-secret", c->out);
	{
		unsigned char rnd[24];
		char hex[64];
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
			if (fd >= 0)
				close(fd);
			return EXIT_HARNESS;
		}
		close(fd);
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
		FILE *f = fopen(c->secret, "w");
		if (!f)
			return EXIT_HARNESS;
		fprintf(f, "%s\n", hex);
		fclose(f);
		chmod(c->secret, 0600);
	}
	const char *acc = getenv("ONSIGHT_ACCOUNTS");
	if (acc && *acc)
		snprintf(c->accounts, sizeof(c->accounts), "%s", acc);
	else
		pathf(c->accounts, sizeof(c->accounts), "%s/mock-oam/examples/accounts.json",
		      runner_source_dir());
	find_tooldirs(c);
	return 0;
}

static int selected(const struct ctx *c, const struct conform_scenario *sc)
{
	if (!c->o->nids)
		return 1;
	for (size_t i = 0; i < c->o->nids; i++)
		if (!strcmp(c->o->ids[i], conform_scenario_id(sc)))
			return 1;
	return 0;
}

static int add_job(struct ctx *c, const struct conform_scenario *sc, const char *fault)
{
	struct job *n = realloc(c->jobs, (c->njobs + 1) * sizeof(*n));
	struct job *j;

	if (!n)
		return ENOMEM;
	c->jobs = n;
	j = &c->jobs[c->njobs];
	memset(j, 0, sizeof(*j));
	j->sc = sc;
	if (fault) {
		snprintf(j->fault, sizeof(j->fault), "%s", fault);
		pathf(j->dir, sizeof(j->dir), "selftest/%s/%s", fault, conform_scenario_id(sc));
	} else {
		snprintf(j->dir, sizeof(j->dir), "%s", conform_scenario_id(sc));
	}
	snprintf(j->prefix, sizeof(j->prefix), "oc%x%x", (unsigned)getpid() & 0xffffff,
	         (unsigned)c->njobs & 0xfff);
	c->njobs++;
	return 0;
}

/* The job's process: one scenario, its result in DIR/result.json. */
static void job_child(struct ctx *c, struct job *j)
{
	struct sigaction sa = {.sa_handler = on_child_stop};
	struct scen_spec sp = {0};
	char path[PATH_MAX], envpath[8 * PATH_MAX];
	const char *old = getenv("PATH");
	json_t *r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pipe_r >= 0)
		close(pipe_r);
	if (pipe_w >= 0)
		close(pipe_w);
	pipe_r = pipe_w = -1;
	snprintf(envpath, sizeof(envpath), "%s:%s", c->tooldirs, old ? old : "/usr/bin:/bin");
	setenv("PATH", envpath, 1);
	pathf(path, sizeof(path), "%s/%s", c->out, j->dir);
	runner_mkdirs(path);
	sp.sc = j->sc;
	sp.ad = c->ad;
	sp.adapter_path = c->adapter_path;
	sp.outdir = c->out;
	sp.dir = j->dir;
	sp.prefix = j->prefix;
	sp.certs = c->certs;
	sp.jwt_secret = c->secret;
	sp.accounts = c->accounts;
	sp.tooldirs = c->tooldirs;
	sp.fault = j->fault[0] ? j->fault : NULL;
	sp.keep_lab = c->o->keep_lab;
	sp.verbose = c->o->verbose;
	r = scen_run(&sp);
	pathf(path, sizeof(path), "%s/%s/result.json", c->out, j->dir);
	int e = r ? report_write_json(r, path) : ENOMEM;
	json_decref(r);
	_exit(e ? 3 : 0);
}

static void job_collect(struct ctx *c, struct job *j, int status)
{
	char path[PATH_MAX], err[512], st[96];
	json_t *r = NULL;

	pathf(path, sizeof(path), "%s/%s/result.json", c->out, j->dir);
	if (WIFEXITED(status) && !WEXITSTATUS(status) && !jcfg_load(path, &r, err, sizeof(err)) &&
	    json_is_object(r)) {
		j->result = r;
	} else {
		json_decref(r);
		if (WIFSIGNALED(status))
			snprintf(st, sizeof(st), "killed by signal %d", WTERMSIG(status));
		else
			snprintf(st, sizeof(st), "exit status %d", WEXITSTATUS(status));
		j->result = json_pack("{s:s,s:s,s:s,s:s,s:[],s:{s:s,s:s+}}", "id",
		                      conform_scenario_id(j->sc), "title",
		                      conform_scenario_title(j->sc) ?: "", "dir", j->dir, "verdict",
		                      V_ERROR, "checks", "harness", "verdict", V_ERROR, "reason",
		                      "the scenario process ended without a result: ", st);
	}
	if (j->fault[0])
		json_object_set_new(j->result, "fault", json_string(j->fault));
	json_object_set_new(j->result, "duration_s",
	                    json_real((double)(now_ms() - j->started) / 1000.0));
	j->state = 2;
}

static void progress(struct ctx *c, const struct job *fin)
{
	size_t done = 0, running = 0;
	int pass = 0, fail = 0, other = 0;
	char run[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < c->njobs; i++) {
		const struct job *j = &c->jobs[i];
		if (j->state == 2) {
			const char *v =
			        json_string_value(json_object_get(j->result, "verdict")) ?: "";
			done++;
			if (!strcmp(v, V_PASS) || !strcmp(v, V_NA))
				pass++;
			else if (!strcmp(v, V_FAIL))
				fail++;
			else
				other++;
		} else if (j->state == 1) {
			running++;
			if (used < sizeof(run) - 40)
				used += (size_t)snprintf(run + used, sizeof(run) - used, " %s",
				                         j->dir);
		}
	}
	double t = (double)(now_ms() - c->t0) / 1000.0;
	if (c->o->progress) {
		if (fin)
			fprintf(stderr, "\r\033[K%-28s %-11s %5.1f s  %s\n", fin->dir,
			        json_string_value(json_object_get(fin->result, "verdict")) ?: "?",
			        json_number_value(json_object_get(fin->result, "duration_s")),
			        json_string_value(json_object_get(fin->result, "reason")) ?: "");
		fprintf(stderr, "\r\033[K[%zu/%zu] %5.1f s  pass %d  fail %d  error %d  running:%s",
		        done, c->njobs, t, pass, fail, other, running ? run : " -");
		fflush(stderr);
	} else if (fin) {
		fprintf(stderr, "onsight-conform: [%zu/%zu] %s %s (%.1f s)%s%s\n", done, c->njobs,
		        fin->dir, json_string_value(json_object_get(fin->result, "verdict")) ?: "?",
		        json_number_value(json_object_get(fin->result, "duration_s")),
		        json_object_get(fin->result, "reason") ? ": " : "",
		        json_string_value(json_object_get(fin->result, "reason")) ?: "");
	}
}

static void start_job(struct ctx *c, struct job *j)
{
	j->started = now_ms();
	double dl = conform_scenario_deadline(j->sc);
	j->backstop = j->started + (uint64_t)((dl > 0 ? dl : 60) * 1000) + BACKSTOP_EXTRA_MS;
	fflush(stderr);
	fflush(stdout);
	j->pid = fork();
	if (j->pid == 0)
		job_child(c, j);
	if (j->pid < 0) {
		j->result =
		        json_pack("{s:s,s:s,s:s,s:[],s:{s:s,s:s}}", "id",
		                  conform_scenario_id(j->sc), "dir", j->dir, "verdict", V_ERROR,
		                  "checks", "harness", "verdict", V_ERROR, "reason", "fork failed");
		j->state = 2;
		return;
	}
	j->state = 1;
	if (!c->o->progress && c->o->verbose)
		fprintf(stderr, "onsight-conform: %s started (lab %s)\n", j->dir, j->prefix);
}

/* Runs every job; returns 0, or EINTR when interrupted. */
static int run_jobs(struct ctx *c)
{
	int jobs = c->o->jobs > 0 ? c->o->jobs : 1;
	uint64_t stop_at = 0;
	int p[2];
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return errno;
	pipe_r = p[0];
	pipe_w = p[1];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		size_t running = 0, pending = 0;
		for (size_t i = 0; i < c->njobs; i++) {
			running += c->jobs[i].state == 1;
			pending += c->jobs[i].state == 0;
		}
		if (got_stop && !stop_at) {
			stop_at = now_ms() + INTERRUPT_WAIT_MS;
			fprintf(stderr, "\nonsight-conform: stopping: tearing down %zu lab(s)\n",
			        running);
			for (size_t i = 0; i < c->njobs; i++)
				if (c->jobs[i].state == 1)
					kill(c->jobs[i].pid, SIGTERM);
		}
		while (!got_stop && pending && running < (size_t)jobs) {
			/* Longest deadline first: the slow scenarios start early, so the run
			 * ends close to the longest one instead of after it. */
			struct job *next = NULL;
			for (size_t i = 0; i < c->njobs; i++)
				if (c->jobs[i].state == 0 &&
				    (!next ||
				     conform_scenario_deadline(c->jobs[i].sc) >
				             conform_scenario_deadline(next->sc)))
					next = &c->jobs[i];
			if (!next)
				break;
			start_job(c, next);
			running++;
			pending--;
		}
		if (!running && (!pending || got_stop))
			break;
		struct pollfd pf = {.fd = pipe_r, .events = POLLIN};
		if (poll(&pf, 1, c->o->progress ? 200 : 1000) > 0) {
			char buf[64];
			while (read(pipe_r, buf, sizeof(buf)) > 0)
				;
		}
		for (size_t i = 0; i < c->njobs; i++) {
			struct job *j = &c->jobs[i];
			int st;
			if (j->state != 1)
				continue;
			if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
				job_collect(c, j, st);
				progress(c, j);
				continue;
			}
			uint64_t limit = stop_at ? stop_at : j->backstop;
			if (now_ms() > limit) {
				char rep[1024] = "";
				kill(j->pid, SIGKILL);
				waitpid(j->pid, &st, 0);
				fwlab_gc(rep, sizeof(rep));
				job_collect(c, j, st);
				json_object_set_new(
				        j->result, "harness",
				        json_pack("{s:s,s:s}", "verdict", V_ERROR, "reason",
				                  "the scenario process overran its backstop "
				                  "deadline and was killed; its lab was "
				                  "collected"));
				json_object_set_new(j->result, "reason",
				                    json_string("killed at the backstop deadline"));
				progress(c, j);
			}
		}
		if (c->o->progress)
			progress(c, NULL);
	}
	if (c->o->progress)
		fprintf(stderr, "\r\033[K");
	signal(SIGCHLD, SIG_DFL);
	close(pipe_r);
	close(pipe_w);
	pipe_r = pipe_w = -1;
	return got_stop ? EINTR : 0;
}

static json_t *results_doc(struct ctx *c)
{
	const char *caps[8];
	size_t k = 0;
	json_t *r, *reqs = json_array(), *capj = json_array();

	for (unsigned bit = 1; bit < 64 && k + 1 < ARRAY_SIZE(caps); bit <<= 1)
		if (adapter_caps(c->ad) & bit && adapter_cap_name(bit))
			json_array_append_new(capj, json_string(adapter_cap_name(bit)));
	for (size_t i = 0; i < conform_requirement_count(); i++) {
		const struct conform_requirement *q = conform_requirement_get(i);
		json_array_append_new(reqs,
		                      json_pack("{s:s,s:s,s:s}", "id", q->id, "title",
		                                q->title ?: "", "note", q->note ?: ""));
	}
	r = json_pack("{s:s,s:s,s:s,s:f,s:{s:s,s:s,s:o},s:{s:i,s:i},s:[],s:o}", "format",
	              RESULTS_FORMAT, "tool_version", ONSIGHT_VERSION, "started", c->started_iso,
	              "wall_s", (double)(now_ms() - c->t0) / 1000.0, "endpoint", "name",
	              adapter_name(c->ad), "adapter", c->adapter_path, "capabilities", capj,
	              "shard", "index", c->o->shard_n ? c->o->shard_i : 1, "count",
	              c->o->shard_n ? c->o->shard_n : 1, "scenarios", "requirements", reqs);
	for (size_t i = 0; r && i < c->njobs; i++)
		if (!c->jobs[i].fault[0] && c->jobs[i].result)
			json_array_append(json_object_get(r, "scenarios"), c->jobs[i].result);
	return r;
}

static void ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < c->njobs; i++)
		json_decref(c->jobs[i].result);
	free(c->jobs);
	conform_scenario_list_free(c->all, c->nall);
	adapter_free(c->ad);
}

static int finish(struct ctx *c, json_t *r, int interrupted)
{
	int code;

	if (!r) {
		ctx_free(c);
		return EXIT_HARNESS;
	}
	json_object_set_new(r, "wall_s", json_real((double)(now_ms() - c->t0) / 1000.0));
	if (interrupted)
		json_object_set_new(r, "interrupted", json_true());
	code = results_finish(r);
	if (runner_write_reports(r, c->out, c->o->json, c->o->junit, c->o->html))
		code = EXIT_HARNESS;
	const json_t *s = json_object_get(json_object_get(r, "summary"), "scenarios");
	printf("onsight-conform: %d pass, %d fail, %d error, %d endpoint not started, %d n/a "
	       "in %.1f s; report: %s/report.html (exit %d)\n",
	       (int)json_integer_value(json_object_get(s, "pass")),
	       (int)json_integer_value(json_object_get(s, "fail")),
	       (int)json_integer_value(json_object_get(s, "error")),
	       (int)json_integer_value(json_object_get(s, "not_started")),
	       (int)json_integer_value(json_object_get(s, "na")),
	       json_number_value(json_object_get(r, "wall_s")), c->out, code);
	json_decref(r);
	ctx_free(c);
	return code;
}

int runner_run(const struct run_opts *o)
{
	struct ctx c = {.o = o};
	int code = setup(&c), k = 0;

	if (code) {
		ctx_free(&c);
		return code;
	}
	for (size_t i = 0; i < c.nall; i++) {
		if (!selected(&c, c.all[i]))
			continue;
		/* Shards take every N-th selected scenario in ID order: deterministic, disjoint. */
		if (o->shard_n && k++ % o->shard_n != o->shard_i - 1)
			continue;
		if (add_job(&c, c.all[i], NULL)) {
			ctx_free(&c);
			return EXIT_HARNESS;
		}
	}
	int e = run_jobs(&c);
	return finish(&c, results_doc(&c), e == EINTR);
}

/* Fault -> the (scenario, check) pairs that declare they catch it. */
static json_t *fault_map(struct ctx *c)
{
	json_t *m = json_object();

	for (size_t i = 0; i < c->nall; i++) {
		const struct conform_scenario *sc = c->all[i];
		if (!selected(c, sc))
			continue;
		for (size_t k = 0; k < conform_scenario_check_count(sc); k++) {
			const struct conform_check_info *ci = conform_scenario_check(sc, k);
			for (const char *const *f = ci->catches; f && *f; f++) {
				json_t *e = json_object_get(m, *f);
				if (!e) {
					e = json_object();
					json_object_set_new(m, *f, e);
				}
				json_t *list = json_object_get(e, conform_scenario_id(sc));
				if (!list) {
					list = json_array();
					json_object_set_new(e, conform_scenario_id(sc), list);
				}
				json_array_append_new(list, json_string(ci->id));
			}
		}
	}
	return m;
}

/* The faults onsight-ref knows, from its --help ("Faults:" then one "  name  text" a line),
 * so a fault no check declares shows in the matrix as not caught. */
static void known_faults(struct ctx *c, json_t *map)
{
	char cmd[PATH_MAX + 32], line[512];
	int in = 0;

	for (char *dirs = strdup(c->tooldirs), *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		pathf(cmd, sizeof(cmd), "%s/onsight-ref", d);
		if (access(cmd, X_OK))
			continue;
		pathf(cmd, sizeof(cmd), "'%s/onsight-ref' --help 2>&1", d);
		FILE *f = strchr(d, '\'') ? NULL : popen(cmd, "r");
		while (f && fgets(line, sizeof(line), f)) {
			char name[64];
			if (!strncmp(line, "Status:", 7) || strstr(line, "Faults:")) {
				in = 1;
				continue;
			}
			if (in && sscanf(line, " %63[a-z0-9-]", name) == 1 && line[0] == ' ' &&
			    !json_object_get(map, name))
				json_object_set_new(map, name, json_object());
		}
		if (f)
			pclose(f);
		free(dirs);
		return;
	}
}

/* 1 if the check `id` passed in the scenario result r (the fault-free run). */
static int check_passed(const json_t *r, const json_t *id)
{
	size_t i;
	json_t *ch;

	json_array_foreach(json_object_get(r, "checks"), i, ch)
	{
		if (json_equal(json_object_get(ch, "id"), id))
			return !strcmp(json_string_value(json_object_get(ch, "verdict")) ?: "",
			               V_PASS);
	}
	return 0;
}

static const struct conform_scenario *find_sc(struct ctx *c, const char *id)
{
	for (size_t i = 0; i < c->nall; i++)
		if (!strcmp(conform_scenario_id(c->all[i]), id))
			return c->all[i];
	return NULL;
}

int runner_selftest(const struct run_opts *o)
{
	struct run_opts ro = *o;
	struct ctx c = {.o = &ro};
	json_t *map, *sel, *faults, *r;
	const char *fault, *sid;
	json_t *per, *checks;
	int code, uncaught = 0;

	ro.adapter_path = NULL;
	ro.reference = 1;
	if ((code = setup(&c))) {
		ctx_free(&c);
		return code;
	}
	map = fault_map(&c);
	if (!o->nids)
		known_faults(&c, map);
	for (size_t i = 0; i < c.nall; i++)
		if (selected(&c, c.all[i]))
			add_job(&c, c.all[i], NULL);
	json_object_foreach(map, fault, per)
	{
		json_object_foreach(per, sid, checks)
		{
			add_job(&c, find_sc(&c, sid), fault);
		}
	}
	int e = run_jobs(&c);
	r = results_doc(&c);
	sel = json_object();
	faults = json_array();
	json_object_foreach(map, fault, per)
	{
		json_t *expect = json_array(), *tripped = json_array(), *scs = json_array(),
		       *runs = json_array(), *unproven = json_array();
		int caught = 1;
		json_object_foreach(per, sid, checks)
		{
			json_array_append_new(scs, json_string(sid));
			const json_t *res = NULL, *clean = NULL;
			for (size_t i = 0; i < c.njobs; i++) {
				if (strcmp(conform_scenario_id(c.jobs[i].sc), sid))
					continue;
				if (!strcmp(c.jobs[i].fault, fault))
					res = c.jobs[i].result;
				else if (!c.jobs[i].fault[0])
					clean = c.jobs[i].result;
			}
			json_array_append_new(
			        runs,
			        json_pack("{s:s,s:s,s:s}", "scenario", sid, "verdict",
			                  json_string_value(json_object_get(res, "verdict")) ?: "?",
			                  "dir",
			                  json_string_value(json_object_get(res, "dir")) ?: ""));
			size_t k;
			json_t *want;
			json_array_foreach(checks, k, want)
			{
				json_array_append(expect, want);
				int hit = 0;
				size_t m;
				json_t *ch;
				json_array_foreach(json_object_get(res, "checks"), m, ch)
				{
					const char *v =
					        json_string_value(json_object_get(ch, "verdict"));
					/* Failing for want of the witness is no sight of the fault. */
					if (json_equal(json_object_get(ch, "id"), want) && v &&
					    strcmp(v, V_PASS) && strcmp(v, V_NA) &&
					    !json_is_true(json_object_get(ch, "unwitnessed")))
						hit = 1;
				}
				/* A check that fails without the fault too proves nothing about it. */
				if (hit && !check_passed(clean, want)) {
					json_array_append(unproven, want);
					hit = 0;
				}
				if (hit)
					json_array_append(tripped, want);
				else
					caught = 0;
			}
			/* A harness error proves nothing about the fault. */
			const char *v = json_string_value(json_object_get(res, "verdict")) ?: "";
			if (!strcmp(v, V_ERROR) || !strcmp(v, V_NOT_STARTED))
				caught = 0;
		}
		uncaught += !caught;
		json_array_append_new(faults,
		                      json_pack("{s:s,s:o,s:o,s:o,s:b,s:o,s:o}", "fault", fault,
		                                "scenarios", scs, "expect", expect, "tripped",
		                                tripped, "caught", caught, "runs", runs,
		                                "fail_without_fault", unproven));
	}
	json_object_set_new(sel, "faults", faults);
	int clean_fail = 0, clean_checks = 0;
	{
		size_t i;
		json_t *s, *ch;
		json_array_foreach(json_object_get(r, "scenarios"), i, s)
		{
			size_t k;
			json_array_foreach(json_object_get(s, "checks"), k, ch)
			{
				const char *v =
				        json_string_value(json_object_get(ch, "verdict")) ?: "";
				clean_checks++;
				clean_fail += strcmp(v, V_PASS) && strcmp(v, V_NA);
			}
		}
	}
	json_object_set_new(sel, "clean",
	                    json_pack("{s:i,s:i}", "failures", clean_fail, "checks", clean_checks));
	json_object_set_new(sel, "uncaught", json_integer(uncaught));
	json_object_set_new(r, "selftest", sel);
	json_decref(map);
	fprintf(stderr,
	        "onsight-conform: selftest: %zu faults, %d not caught; fault-free: %d of %d "
	        "checks failed\n",
	        json_array_size(faults), uncaught, clean_fail, clean_checks);
	/* The kill matrix: the fault runs above plus every mutation judged offline. */
	json_t *matrix = NULL;
	char err[512] = "";
	if (selftest_matrix_from_run(c.out, r, conform_scenario_default_dir(), &matrix, err,
	                             sizeof(err))) {
		fprintf(stderr, "onsight-conform: selftest: kill matrix: %s\n", err);
		json_object_set_new(sel, "matrix_error", json_string(err));
	} else {
		selftest_print(matrix, stderr);
		json_object_set_new(sel, "matrix", matrix);
	}
	return finish(&c, r, e == EINTR);
}
