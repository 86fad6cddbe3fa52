/* evloop.c - epoll + binary timer heap + signalfd (cf. redis ae.c, libre re_main). */
#define LOG_TAG "evloop"
#include "onsight/evloop.h"
#include "onsight/log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define EVLOOP_MAX_EVENTS 64

struct fdent {
	int fd;
	evloop_fd_h *h;
	void *arg;
	struct fdent *next;
};

struct timer {
	uint64_t due_ms;
	uint64_t id;
	evloop_timer_h *h;
	void *arg;
};

struct sigent {
	int signo;
	evloop_signal_h *h;
	void *arg;
};

struct evloop {
	int epfd;
	int stop;
	/* fd table: small hash with chaining; handlers are looked up per event so a handler
	 * removed during the same epoll batch is never called with a dangling arg. */
	struct fdent *buckets[256];
	struct timer *heap;
	unsigned nheap, capheap;
	uint64_t next_id;
	int sigfd;
	sigset_t sigmask;
	struct sigent sigs[16];
	unsigned nsigs;
};

uint64_t evloop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t evloop_now_ms(void)
{
	return evloop_now_ns() / 1000000ull;
}

int evloop_alloc(struct evloop **lp)
{
	struct evloop *l;

	if (!lp)
		return EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = errno;
		free(l);
		return err;
	}
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	*lp = l;
	return 0;
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < 256; i++) {
		struct fdent *e = l->buckets[i];
		while (e) {
			struct fdent *n = e->next;
			free(e);
			e = n;
		}
	}
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l->heap);
	free(l);
}

static struct fdent **fd_slot(struct evloop *l, int fd)
{
	struct fdent **pp = &l->buckets[(unsigned)fd & 255u];

	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	return pp;
}

int evloop_fd_add(struct evloop *l, int fd, uint32_t events, evloop_fd_h *h, void *arg)
{
	struct epoll_event ev;
	struct fdent **pp, *e;

	if (!l || fd < 0 || !h)
		return EINVAL;
	pp = fd_slot(l, fd);
	if (*pp)
		return EEXIST;
	e = calloc(1, sizeof(*e));
	if (!e)
		return ENOMEM;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;
		free(e);
		return err;
	}
	e->fd = fd;
	e->h = h;
	e->arg = arg;
	*pp = e;
	return 0;
}

int evloop_fd_mod(struct evloop *l, int fd, uint32_t events)
{
	struct epoll_event ev;

	if (!l || !*fd_slot(l, fd))
		return ENOENT;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? errno : 0;
}

void evloop_fd_del(struct evloop *l, int fd)
{
	struct fdent **pp, *e;

	if (!l || fd < 0)
		return;
	pp = fd_slot(l, fd);
	e = *pp;
	if (!e)
		return;
	*pp = e->next;
	free(e);
	/* May fail if fd was already closed; that also removed it from the epoll set. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* --- timers: a binary min-heap ordered by (due, id) ---------------------------------- */

static int timer_less(const struct timer *a, const struct timer *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->id < b->id);
}

static void heap_swap(struct evloop *l, unsigned a, unsigned b)
{
	struct timer t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
}

static void heap_up(struct evloop *l, unsigned i)
{
	while (i > 0) {
		unsigned p = (i - 1) / 2;
		if (!timer_less(&l->heap[i], &l->heap[p]))
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct evloop *l, unsigned i)
{
	for (;;) {
		unsigned c = 2 * i + 1, m = i;
		if (c < l->nheap && timer_less(&l->heap[c], &l->heap[m]))
			m = c;
		if (c + 1 < l->nheap && timer_less(&l->heap[c + 1], &l->heap[m]))
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct evloop *l, unsigned i)
{
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	heap_down(l, i);
	heap_up(l, i);
}

uint64_t evloop_timer_add(struct evloop *l, uint64_t ms, evloop_timer_h *h, void *arg)
{
	struct timer *t;

	if (!l || !h)
		return 0;
	if (l->nheap == l->capheap) {
		unsigned cap = l->capheap ? l->capheap * 2 : 16;
		struct timer *nh = realloc(l->heap, cap * sizeof(*nh));
		if (!nh)
			return 0;
		l->heap = nh;
		l->capheap = cap;
	}
	t = &l->heap[l->nheap];
	t->due_ms = evloop_now_ms() + ms;
	t->id = ++l->next_id;
	t->h = h;
	t->arg = arg;
	heap_up(l, l->nheap++);
	return l->next_id;
}

void evloop_timer_cancel(struct evloop *l, uint64_t id)
{
	/* Linear search: timer counts here are in the thousands at most and cancel is rare
	 * compared to the I/O it accompanies. */
	if (!l || id == 0)
		return;
	for (unsigned i = 0; i < l->nheap; i++) {
		if (l->heap[i].id == id) {
			heap_remove(l, i);
			return;
		}
	}
}

unsigned evloop_timer_count(const struct evloop *l)
{
	return l ? l->nheap : 0;
}

static int timers_run(struct evloop *l)
{
	uint64_t now = evloop_now_ms(), last = l->next_id;
	int ran = 0;

	/* Fire only timers due now and added before this call; ones the handlers add (a 0 ms
	 * timer re-arming itself, say) wait for the next turn, after the descriptors. */
	while (l->nheap > 0 && l->heap[0].due_ms <= now && l->heap[0].id <= last && !l->stop) {
		struct timer t = l->heap[0];
		heap_remove(l, 0);
		t.h(t.arg);
		ran++;
	}
	return ran;
}

static int timers_timeout(const struct evloop *l, int timeout_ms)
{
	uint64_t now, due;
	int ms;

	if (l->nheap == 0)
		return timeout_ms;
	now = evloop_now_ms();
	due = l->heap[0].due_ms;
	ms = due <= now ? 0 : (due - now > 60000 ? 60000 : (int)(due - now));
	return (timeout_ms < 0 || ms < timeout_ms) ? ms : timeout_ms;
}

/* --- signals ------------------------------------------------------------------------ */

static void signal_read(int fd, uint32_t events, void *arg)
{
	struct evloop *l = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (unsigned i = 0; i < l->nsigs; i++)
			if (l->sigs[i].signo == (int)si.ssi_signo)
				l->sigs[i].h((int)si.ssi_signo, l->sigs[i].arg);
	}
}

int evloop_signal_add(struct evloop *l, int signo, evloop_signal_h *h, void *arg)
{
	int fd, err;

	if (!l || !h || l->nsigs == sizeof(l->sigs) / sizeof(l->sigs[0]))
		return EINVAL;
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return errno;
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return errno;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		err = evloop_fd_add(l, fd, EPOLLIN, signal_read, l);
		if (err)
			return err;
	}
	l->sigs[l->nsigs].signo = signo;
	l->sigs[l->nsigs].h = h;
	l->sigs[l->nsigs].arg = arg;
	l->nsigs++;
	return 0;
}

/* --- running ------------------------------------------------------------------------ */

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[EVLOOP_MAX_EVENTS];
	int n;

	if (timers_run(l) > 0)
		timeout_ms = 0;
	n = epoll_wait(l->epfd, evs, EVLOOP_MAX_EVENTS, timers_timeout(l, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : errno;
	for (int i = 0; i < n && !l->stop; i++) {
		struct fdent *e = *fd_slot(l, evs[i].data.fd);
		if (e)
			e->h(e->fd, evs[i].events, e->arg);
	}
	timers_run(l);
	return 0;
}

int evloop_run(struct evloop *l)
{
	int err = 0;

	if (!l)
		return EINVAL;
	l->stop = 0;
	while (!l->stop && !err)
		err = evloop_run_once(l, -1);
	if (err)
		log_warnx("epoll_wait: %s", strerror(err));
	return err;
}

void evloop_stop(struct evloop *l)
{
	if (l)
		l->stop = 1;
}
