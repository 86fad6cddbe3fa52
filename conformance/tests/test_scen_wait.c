/* test_scen_wait.c - the runner's readiness and `wait registered` over journal lines fed by
 * hand (no lab): readiness on a journal event can name field values, and a registration's
 * 200 that arrives before the wait starts still ends the wait at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "scen_int.h"
#include "testutil.h"

#define CHALLENGE \
	"{\"service\":\"mock-sip\",\"event\":\"register\",\"user\":\"alice\"," \
	"\"result\":\"challenge\",\"status\":401}\n"
#define REGISTERED \
	"{\"service\":\"mock-sip\",\"event\":\"register\",\"user\":\"sip:alice@librestream.com\"," \
	"\"result\":\"ok\",\"status\":200}\n"

/* The baresip adapter's readiness: the journal's register event, optionally with fields. */
static struct adapter *journal_adapter(const char *fields)
{
	char text[512], err[256];
	struct adapter *a = NULL;

	snprintf(text, sizeof(text),
	         "{\"name\":\"t\",\"command\":[\"true\"],\"ready\":{\"journal\":\"mock-sip\","
	         "\"event\":\"register\"%s%s}}",
	         fields ? ",\"fields\":" : "", fields ? fields : "");
	ck_assert_msg(!adapter_parse(&a, "t.json", text, strlen(text), err, sizeof(err)), "%s",
	              err);
	return a;
}

struct fixture {
	char *dir;
	char journal[600];
	struct scen_spec sp;
	struct scen s;
};

static void fixture_init(struct fixture *f, struct adapter *ad)
{
	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	snprintf(f->journal, sizeof(f->journal), "%s/mock-sip-public.jsonl", f->dir);
	f->sp.ad = ad;
	f->s.sp = &f->sp;
	f->s.ep_out = f->s.ep_logfd = f->s.ino = -1;
	f->s.counts = json_object();
	f->s.steps = json_array();
	snprintf(f->s.sip_user, sizeof(f->s.sip_user), "alice");
	snprintf(f->s.tails[0].path, sizeof(f->s.tails[0].path), "%s", f->journal);
	snprintf(f->s.tails[0].inst, sizeof(f->s.tails[0].inst), "mock-sip-public");
	f->s.ntails = 1;
}

static void fixture_free(struct fixture *f)
{
	json_decref(f->s.counts);
	json_decref(f->s.steps);
	adapter_free((struct adapter *)f->sp.ad);
	tu_rmtree(f->dir);
	free(f->dir);
}

static void journal_append(const struct fixture *f, const char *line)
{
	FILE *j = fopen(f->journal, "a");

	ck_assert_ptr_nonnull(j);
	fputs(line, j);
	fclose(j);
}

START_TEST(test_ready_fields_wait_for_the_200_not_the_challenge)
{
	struct fixture f;

	fixture_init(&f, journal_adapter("{\"result\":\"ok\"}"));
	journal_append(&f, CHALLENGE);
	scen_read_tails(&f.s);
	ck_assert_int_eq(f.s.ready, 0);
	journal_append(&f, REGISTERED);
	scen_read_tails(&f.s);
	ck_assert_int_eq(f.s.ready, 1);
	fixture_free(&f);
}
END_TEST

START_TEST(test_ready_without_fields_fires_on_any_register)
{
	struct fixture f;

	fixture_init(&f, journal_adapter(NULL));
	journal_append(&f, CHALLENGE);
	scen_read_tails(&f.s);
	ck_assert_int_eq(f.s.ready, 1);
	fixture_free(&f);
}
END_TEST

/* The race baresip ran into about once in ten runs: readiness fired on the 401 challenge,
 * the 200 came before `wait registered` began, and the wait then waited its whole timeout
 * for a second registration. */
START_TEST(test_wait_registered_ends_at_once_on_a_200_before_it)
{
	const struct conform_step st = {.kind = CONFORM_STEP_WAIT,
	                                .do_name = "wait",
	                                .event = "registered",
	                                .timeout_s = 3};
	struct fixture f;
	uint64_t t0;

	fixture_init(&f, journal_adapter(NULL));
	journal_append(&f, CHALLENGE);
	scen_read_tails(&f.s); /* readiness sees the challenge */
	ck_assert_int_eq(f.s.ready, 1);
	journal_append(&f, REGISTERED); /* the 200, before the step */
	t0 = scen_now_ms();
	ck_assert_int_eq(scen_step_wait(&f.s, &st, "1 wait registered"), 1);
	ck_assert_uint_lt(scen_now_ms() - t0, 500);
	ck_assert_str_eq(f.s.last_reg, "mock-sip-public");
	ck_assert(!f.s.pverdict[0]);
	fixture_free(&f);
}
END_TEST

START_TEST(test_wait_registered_without_a_200_fails_the_precondition)
{
	const struct conform_step st = {.kind = CONFORM_STEP_WAIT,
	                                .do_name = "wait",
	                                .event = "registered",
	                                .timeout_s = 0.3};
	struct fixture f;

	fixture_init(&f, journal_adapter(NULL));
	journal_append(&f, CHALLENGE);
	ck_assert_int_eq(scen_step_wait(&f.s, &st, "1 wait registered"), 0);
	ck_assert_str_eq(f.s.pverdict, V_FAIL);
	ck_assert_str_eq(f.s.pstep, "1 wait registered");
	ck_assert_ptr_nonnull(strstr(f.s.preason, "no registered within"));
	json_t *no_checks = json_array();
	ck_assert_str_eq(scen_verdict(&f.s, no_checks), V_FAIL);
	json_decref(no_checks);
	fixture_free(&f);
}
END_TEST

/* A registration from before the last migrate/apply does not satisfy a later wait. */
START_TEST(test_wait_registered_counts_from_the_baseline)
{
	const struct conform_step st = {.kind = CONFORM_STEP_WAIT,
	                                .do_name = "wait",
	                                .event = "registered",
	                                .timeout_s = 0.3};
	struct fixture f;

	fixture_init(&f, journal_adapter(NULL));
	journal_append(&f, REGISTERED);
	scen_read_tails(&f.s);
	f.s.reg_base = scen_counted(&f.s, "journal:registered");
	ck_assert_int_eq(scen_step_wait(&f.s, &st, "3 wait registered"), 0);
	journal_append(&f, REGISTERED);
	ck_assert_int_eq(scen_step_wait(&f.s, &st, "4 wait registered"), 1);
	fixture_free(&f);
}
END_TEST

TU_SUITE("conform_scen_wait", test_ready_fields_wait_for_the_200_not_the_challenge,
         test_ready_without_fields_fires_on_any_register,
         test_wait_registered_ends_at_once_on_a_200_before_it,
         test_wait_registered_without_a_200_fails_the_precondition,
         test_wait_registered_counts_from_the_baseline)
