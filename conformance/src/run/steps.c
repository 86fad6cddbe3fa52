/* steps.c - a scenario's steps, in order, each bounded by its timeout. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "adapter.h"
#include "fwlab.h"
#include "onsight/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wait_count(struct scen *s, const char *ev, json_int_t above, double secs)
{
	json_t *a = json_pack("[s,I]", ev, above);
	int ok = scen_wait_for(s, scen_pred_count_above, a, (uint64_t)(secs * 1000));
	json_decref(a);
	return ok;
}

void scen_precondition(struct scen *s, const char *step, const char *verdict, const char *fmt, ...)
{
	va_list ap;

	if (s->pverdict[0] && (strcmp(verdict, V_ERROR) || !strcmp(s->pverdict, V_ERROR)))
		return;
	snprintf(s->pverdict, sizeof(s->pverdict), "%s", verdict);
	snprintf(s->pstep, sizeof(s->pstep), "%s", step);
	va_start(ap, fmt);
	vsnprintf(s->preason, sizeof(s->preason), fmt, ap);
	va_end(ap);
}

/* A step cut short because the harness already failed (a service died, the lab broke) is the
 * harness's error, not the endpoint's failure. */
static const char *step_failure(const struct scen *s)
{
	return !strcmp(s->hverdict, V_ERROR) || scen_interrupted ? V_ERROR : V_FAIL;
}

struct wait_arg {
	const char *ev;
	json_int_t seen; /* status lines `ev` when the step began */
};

/* A new `ev` status line. An endpoint without status output is seen registering in
 * mock-sip's journal: a successful REGISTER of its user since the last baseline (scenario
 * start, migrate, apply), even one that came before this step began (the 200 to a
 * registration that readiness saw the start of). One that writes status lines is judged by
 * its own: the server's 200 can still be on its way to the endpoint when the journal shows it
 * (held by a proxy, say). */
static int pred_wait(struct scen *s, const void *arg)
{
	const struct wait_arg *w = arg;

	return scen_counted(s, w->ev) > w->seen ||
	        (!strcmp(w->ev, "registered") && scen_counted(s, "status:any") == 0 &&
	         scen_counted(s, "journal:registered") > s->reg_base);
}

int scen_step_wait(struct scen *s, const struct conform_step *st, const char *name)
{
	struct wait_arg w = {.ev = st->event ? st->event : "registered"};
	uint64_t t = scen_now_ms();

	scen_read_tails(s); /* status lines before this step belong to earlier ones */
	w.seen = scen_counted(s, w.ev);
	if (scen_wait_for(s, pred_wait, &w, (uint64_t)(st->timeout_s * 1000))) {
		scen_step_log(s, name, "ok after %.2f s", (double)(scen_now_ms() - t) / 1000.0);
		return 1;
	}
	scen_step_log(s, name, "no %s within %.0f s", w.ev, st->timeout_s);
	if (!strcmp(step_failure(s), V_ERROR))
		scen_precondition(s, name, V_ERROR, "no %s: the wait ended early: %s", w.ev,
		                  s->hreason);
	else
		scen_precondition(s, name, V_FAIL, "no %s within %.0f s", w.ev, st->timeout_s);
	return 0;
}

/* Registrations before a change of network or firewall do not satisfy a later wait: the
 * baseline is taken just before the change, so none made after it is missed. */
static void set_baseline(struct scen *s)
{
	scen_read_tails(s);
	s->reg_base = scen_counted(s, "journal:registered");
}

static void step_call_in(struct scen *s, const struct conform_step *st, const char *name)
{
	char line[256], err[256];
	struct svc *v = s->last_reg[0] ? scen_svc_by_name(s, s->last_reg) : NULL;
	json_t *ans;

	if (!(adapter_caps(s->sp->ad) & CAP_AUTO_ANSWER)) {
		scen_step_log(s, name, "skipped: capability auto-answer not declared");
		return;
	}
	if (!v) {
		scen_step_log(s, name, "skipped: the endpoint is registered with no SIP server");
		scen_precondition(s, name, step_failure(s),
		                  "the endpoint is registered with no SIP server to call it");
		return;
	}
	json_int_t ended = scen_counted(s, "call.end"), answered = scen_counted(s, "call.answered");
	snprintf(line, sizeof(line), "call %s %.0f\n", s->sip_user, st->seconds);
	ans = scen_sip_control(v, line, err, sizeof(err));
	if (!ans || !json_is_true(json_object_get(ans, "ok"))) {
		char *dump = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
		scen_step_log(s, name, "%s refused the call: %s", v->name, dump ? dump : err);
		/* No answer at all is the control socket failing; an answer is mock-sip's. */
		scen_precondition(s, name, ans ? step_failure(s) : V_ERROR,
		                  "%s refused the call: %s", v->name, dump ? dump : err);
		free(dump);
		json_decref(ans);
		return;
	}
	json_decref(ans);
	int ok = wait_count(s, "call.answered", answered, st->timeout_s);
	if (!ok) {
		scen_step_log(s, name, "not answered within %.0f s", st->timeout_s);
		scen_precondition(s, name, step_failure(s),
		                  "the call from %s was not answered "
		                  "within %.0f s",
		                  v->name, st->timeout_s);
		return;
	}
	ok = wait_count(s, "call.end", ended, st->seconds + 5);
	scen_step_log(s, name, "%s via %s", ok ? "answered and ended" : "answered, no end seen",
	              v->name);
}

static void step_call_out(struct scen *s, const struct conform_step *st, const char *name)
{
	json_int_t ended = scen_counted(s, "call.end");

	if (!(adapter_caps(s->sp->ad) & CAP_CALL_OUT)) {
		scen_step_log(s, name, "skipped: capability call-out not declared");
		return;
	}
	if (!s->last_reg[0] && !scen_counted(s, "registered")) {
		scen_step_log(s, name, "skipped: the endpoint is registered with no SIP server");
		scen_precondition(s, name, step_failure(s),
		                  "the endpoint is registered with no SIP server to call through");
		return;
	}
	/* The endpoint places the call itself ({call_uri} on its command line). */
	int ok = wait_count(s, "call.end", ended, st->timeout_s + st->seconds + 10);
	scen_step_log(s, name, ok ? "a call was placed and ended" : "no call seen within %.0f s",
	              st->timeout_s + st->seconds + 10);
	if (!ok)
		scen_precondition(s, name, step_failure(s),
		                  "no call from the endpoint reached the peer within %.0f s",
		                  st->timeout_s + st->seconds + 10);
}

static void step_hangup(struct scen *s, const char *name)
{
	char err[256];
	struct svc *v =
	        s->last_reg[0] ? scen_svc_by_name(s, s->last_reg) : scen_svc_by_name(s, "mock-sip");
	json_t *ans = v ? scen_sip_control(v, "hangup\n", err, sizeof(err)) : NULL;

	scen_step_log(s, name, "%s",
	              ans && json_is_true(json_object_get(ans, "ok")) ? "hung up"
	                                                              : "no call to end");
	json_decref(ans);
}

void scen_steps_run(struct scen *s)
{
	const struct conform_scenario *sc = s->sp->sc;
	char name[160], err[512];

	for (size_t i = 0; i < conform_scenario_step_count(sc) && !scen_must_abort(s); i++) {
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
			scen_step_wait(s, st, name);
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
			set_baseline(s);
			e = fwlab_migrate(s->lab, st->to);
			if (e) {
				scen_harness(s, V_ERROR, "migrate %s: %s", st->to, strerror(e));
				scen_precondition(s, name, V_ERROR, "migrate %s: %s", st->to,
				                  strerror(e));
			}
			scen_step_log(s, name, e ? "failed: %s" : "done", strerror(e));
			break;
		case CONFORM_STEP_APPLY:
			set_baseline(s);
			e = fwlab_apply(s->lab, st->profile, err, sizeof(err));
			if (e) {
				scen_harness(s, V_ERROR, "apply %s: %s", st->profile, err);
				scen_precondition(s, name, V_ERROR, "apply %s: %s", st->profile,
				                  err);
			}
			scen_step_log(s, name, e ? "failed: %s" : "done", err);
			break;
		case CONFORM_STEP_SLEEP:
			scen_wait_for(s, NULL, NULL, (uint64_t)(st->seconds * 1000));
			scen_step_log(s, name, "slept %.1f s", st->seconds);
			break;
		case CONFORM_STEP_STOP:
			scen_endpoint_stop(s, "stop step");
			scen_step_log(s, name, "endpoint stopped");
			break;
		}
	}
	if (s->deadline && scen_now_ms() >= s->deadline && !scen_interrupted)
		scen_harness(s, V_FAIL, "the scenario deadline of %.0f s passed during step %s",
		             conform_scenario_deadline(sc) > 0 ? conform_scenario_deadline(sc)
		                                               : DEFAULT_DEADLINE_S,
		             s->cur_step ? s->cur_step : "start");
	if (scen_interrupted)
		scen_harness(s, V_ERROR, "interrupted (SIGINT/SIGTERM): the lab was torn down");
	s->cur_step = "teardown";
}
