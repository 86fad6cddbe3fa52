#include "onsight/evloop.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

struct rec {
	struct evloop *l;
	int order[8];
	int n;
	uint64_t cancel_id;
};

static void t_mark(void *arg, int v)
{
	struct rec *r = arg;
	r->order[r->n++] = v;
	if (r->n == 3)
		evloop_stop(r->l);
}
static void t1(void *arg)
{
	t_mark(arg, 1);
}
static void t2(void *arg)
{
	t_mark(arg, 2);
}
static void t3(void *arg)
{
	t_mark(arg, 3);
}

START_TEST(test_evloop_fires_timers_in_due_order)
{
	struct rec r = {0};

	ck_assert_int_eq(evloop_alloc(&r.l), 0);
	ck_assert(evloop_timer_add(r.l, 30, t3, &r) != 0);
	ck_assert(evloop_timer_add(r.l, 10, t1, &r) != 0);
	ck_assert(evloop_timer_add(r.l, 20, t2, &r) != 0);
	ck_assert_int_eq(evloop_run(r.l), 0);
	ck_assert_int_eq(r.order[0], 1);
	ck_assert_int_eq(r.order[1], 2);
	ck_assert_int_eq(r.order[2], 3);
	ck_assert_uint_eq(evloop_timer_count(r.l), 0);
	evloop_free(r.l);
}
END_TEST

static void t_rearm(void *arg)
{
	struct rec *r = arg;

	r->n++;
	ck_assert(evloop_timer_add(r->l, 0, t_rearm, r) != 0);
}

/* A 0 ms timer that re-arms itself runs once a turn and does not starve descriptors. */
START_TEST(test_evloop_rearming_timer_runs_once_a_turn)
{
	struct rec r = {0};

	ck_assert_int_eq(evloop_alloc(&r.l), 0);
	ck_assert(evloop_timer_add(r.l, 0, t_rearm, &r) != 0);
	ck_assert_int_eq(evloop_run_once(r.l, 0), 0);
	ck_assert_int_le(r.n, 2);
	ck_assert_int_ge(r.n, 1);
	r.n = 0;
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(evloop_run_once(r.l, 0), 0);
	ck_assert_int_le(r.n, 10);
	ck_assert_int_ge(r.n, 5);
	evloop_free(r.l);
}
END_TEST

static void t_cancel_other(void *arg)
{
	struct rec *r = arg;
	evloop_timer_cancel(r->l, r->cancel_id);
	t_mark(arg, 7);
}

START_TEST(test_evloop_cancelled_timer_never_fires)
{
	struct rec r = {0};
	uint64_t keep;

	ck_assert_int_eq(evloop_alloc(&r.l), 0);
	r.cancel_id = evloop_timer_add(r.l, 20, t2, &r);
	keep = evloop_timer_add(r.l, 5, t_cancel_other, &r);
	ck_assert(keep && r.cancel_id);
	evloop_timer_cancel(r.l, 0); /* ignored */
	evloop_timer_cancel(r.l, 999999); /* unknown: ignored */
	for (int i = 0; i < 10 && evloop_timer_count(r.l); i++)
		ck_assert_int_eq(evloop_run_once(r.l, 50), 0);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.order[0], 7);
	evloop_free(r.l);
}
END_TEST

struct io {
	struct evloop *l;
	char buf[16];
	ssize_t got;
};

static void on_read(int fd, uint32_t ev, void *arg)
{
	struct io *io = arg;

	ck_assert(ev & EPOLLIN);
	io->got = read(fd, io->buf, sizeof(io->buf));
	/* Removing oneself from inside the handler is allowed. */
	evloop_fd_del(io->l, fd);
	evloop_stop(io->l);
}

START_TEST(test_evloop_dispatches_readable_fd_and_allows_self_removal)
{
	struct io io = {0};
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(evloop_alloc(&io.l), 0);
	ck_assert_int_eq(evloop_fd_add(io.l, sv[0], EPOLLIN, on_read, &io), 0);
	ck_assert_int_eq(evloop_fd_add(io.l, sv[0], EPOLLIN, on_read, &io), EEXIST);
	ck_assert_int_eq(write(sv[1], "ping", 4), 4);
	ck_assert_int_eq(evloop_run(io.l), 0);
	ck_assert_int_eq(io.got, 4);
	ck_assert_int_eq(evloop_fd_mod(io.l, sv[0], EPOLLIN), ENOENT);
	evloop_fd_del(io.l, sv[0]); /* already gone: ignored */
	evloop_free(io.l);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void on_sig(int signo, void *arg)
{
	struct rec *r = arg;
	r->order[r->n++] = signo;
	evloop_stop(r->l);
}

START_TEST(test_evloop_delivers_signals_through_the_loop)
{
	struct rec r = {0};

	ck_assert_int_eq(evloop_alloc(&r.l), 0);
	ck_assert_int_eq(evloop_signal_add(r.l, SIGUSR1, on_sig, &r), 0);
	ck_assert_int_eq(evloop_signal_add(r.l, SIGHUP, on_sig, &r), 0);
	kill(getpid(), SIGHUP);
	ck_assert_int_eq(evloop_run(r.l), 0);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.order[0], SIGHUP);
	evloop_free(r.l);
}
END_TEST

START_TEST(test_evloop_rejects_bad_arguments)
{
	struct evloop *l = NULL;

	ck_assert_int_eq(evloop_alloc(NULL), EINVAL);
	ck_assert_int_eq(evloop_alloc(&l), 0);
	ck_assert_int_eq(evloop_fd_add(l, -1, EPOLLIN, on_read, NULL), EINVAL);
	ck_assert(evloop_timer_add(l, 1, NULL, NULL) == 0);
	evloop_free(l);
	evloop_free(NULL);
}
END_TEST

TU_SUITE("evloop", test_evloop_fires_timers_in_due_order,
         test_evloop_rearming_timer_runs_once_a_turn, test_evloop_cancelled_timer_never_fires,
         test_evloop_dispatches_readable_fd_and_allows_self_removal,
         test_evloop_delivers_signals_through_the_loop, test_evloop_rejects_bad_arguments)
