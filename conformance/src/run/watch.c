/* watch.c - what the scenario observes while it waits: children exiting, the services'
 * journals (tailed), the endpoint's stdout; wait_for and its predicates. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "adapter.h"
#include "onsight/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- children ------------------------------------------------------------------------ */

void scen_reap(struct scen *s)
{
	char st[96];
	int status;

	if (s->ep_pid > 0 && !s->ep_exited && waitpid(s->ep_pid, &status, WNOHANG) == s->ep_pid) {
		s->ep_exited = 1;
		s->ep_status = status;
		if (!s->stop_sent) {
			if (!s->ready)
				scen_harness(s, V_NOT_STARTED,
				             "the endpoint exited before it was ready (%s); "
				             "see endpoint.stderr.log",
				             scen_status_str(status, st, sizeof(st)));
			else if (WIFSIGNALED(status))
				scen_harness(s, V_FAIL, "the endpoint crashed during step %s (%s)",
				             s->cur_step ? s->cur_step : "start",
				             scen_status_str(status, st, sizeof(st)));
			else
				scen_harness(s, V_FAIL,
				             "the endpoint exited by itself during step %s (%s)",
				             s->cur_step ? s->cur_step : "start",
				             scen_status_str(status, st, sizeof(st)));
		}
	}
	for (size_t i = 0; i < s->nsvc; i++) {
		struct svc *v = &s->svc[i];
		if (v->pid <= 0 || v->exited || waitpid(v->pid, &status, WNOHANG) != v->pid)
			continue;
		v->exited = 1;
		v->status = status;
		if (!s->in_teardown)
			scen_harness(s, V_ERROR, "%s died during %s (%s); see %s.log", v->name,
			             s->cur_step ? s->cur_step : "start-up",
			             scen_status_str(status, st, sizeof(st)), v->name);
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
		scen_count(s, "journal:registered");
		snprintf(s->last_reg, sizeof(s->last_reg), "%s", t->inst);
	}
	if (!strcmp(ev, "call")) {
		snprintf(key, sizeof(key), "call.%s",
		         json_string_value(json_object_get(j, "state")) ?: "?");
		scen_count(s, key);
	}
	if (adapter_ready_journal_match(s->sp->ad, j))
		s->ready = 1;
out:
	json_decref(j);
}

void scen_read_tails(struct scen *s)
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
		scen_count(s, ev);
		scen_count(s, "status:any");
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
void scen_pump(struct scen *s, int ms)
{
	struct pollfd p[3] = {{.fd = scen_sig_r, .events = POLLIN},
	                      {.fd = s->ep_out, .events = POLLIN},
	                      {.fd = s->ino, .events = POLLIN}};
	char buf[4096];

	if (ms < 0)
		ms = 0;
	if (poll(p, 3, ms) > 0) {
		if (p[0].revents && read(scen_sig_r, buf, sizeof(buf)) < 0)
			(void)0;
		if (p[1].revents)
			read_ep(s);
		if (p[2].revents && read(s->ino, buf, sizeof(buf)) < 0)
			(void)0;
	}
	scen_reap(s);
	scen_read_tails(s);
}

int scen_must_abort(const struct scen *s)
{
	/* An endpoint that exited by itself leaves nothing more to observe. */
	return scen_interrupted || (s->ep_exited && !s->stop_sent) ||
	        !strcmp(s->hverdict, V_ERROR) || !strcmp(s->hverdict, V_NOT_STARTED) ||
	        (s->deadline && scen_now_ms() >= s->deadline);
}

/* Waits until pred(s, arg) holds, for at most ms; 1 if it held. */
int scen_wait_for(struct scen *s, int (*pred)(struct scen *, const void *), const void *arg,
                  uint64_t ms)
{
	uint64_t end = scen_now_ms() + ms;

	if (s->deadline && end > s->deadline)
		end = s->deadline;
	for (;;) {
		if (pred && pred(s, arg))
			return 1;
		if (scen_must_abort(s) || scen_now_ms() >= end)
			return pred ? pred(s, arg) : 0;
		scen_pump(s, (int)(end - scen_now_ms() > 250 ? 250 : end - scen_now_ms()));
	}
}

int scen_pred_count_above(struct scen *s, const void *arg)
{
	const json_t *a = arg;
	return scen_counted(s, json_string_value(json_array_get(a, 0))) >
	        json_integer_value(json_array_get(a, 1));
}

int scen_pred_ready(struct scen *s, const void *arg)
{
	(void)arg;
	return s->ready || s->ep_exited;
}

int scen_pred_ep_exited(struct scen *s, const void *arg)
{
	(void)arg;
	return s->ep_exited;
}
