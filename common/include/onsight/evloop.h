/* evloop.h - one event loop per process: epoll for descriptors, a timer heap, signalfd.
 *
 * Handlers run on the loop's thread. A handler may add or remove any descriptor or timer,
 * including its own, while it runs. No call here sleeps.
 */
#ifndef ONSIGHT_EVLOOP_H
#define ONSIGHT_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct evloop;

/* events is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...). */
typedef void(evloop_fd_h)(int fd, uint32_t events, void *arg);
typedef void(evloop_timer_h)(void *arg);
typedef void(evloop_signal_h)(int signo, void *arg);

int evloop_alloc(struct evloop **lp) __attribute__((warn_unused_result));
/* Frees the loop; descriptors registered with it are not closed. NULL is a no-op. */
void evloop_free(struct evloop *l);

/* Watches fd for events (level-triggered). One registration per fd. */
int evloop_fd_add(struct evloop *l, int fd, uint32_t events, evloop_fd_h *h, void *arg)
        __attribute__((warn_unused_result));
int evloop_fd_mod(struct evloop *l, int fd, uint32_t events);
/* Stops watching fd; does not close it. Unknown fds are ignored. */
void evloop_fd_del(struct evloop *l, int fd);

/* Calls h(arg) once, after ms milliseconds. Returns a non-zero timer id, or 0 on ENOMEM. */
uint64_t evloop_timer_add(struct evloop *l, uint64_t ms, evloop_timer_h *h, void *arg);
/* Cancels a pending timer. Ids already fired or cancelled (and 0) are ignored. */
void evloop_timer_cancel(struct evloop *l, uint64_t id);
/* Number of pending timers (for tests and leak checks). */
unsigned evloop_timer_count(const struct evloop *l);

/* Delivers signo through the loop (signalfd); the signal is blocked for the process. */
int evloop_signal_add(struct evloop *l, int signo, evloop_signal_h *h, void *arg)
        __attribute__((warn_unused_result));

/* Runs until evloop_stop(). Returns 0, or an errno if epoll itself fails. */
int evloop_run(struct evloop *l);
/* Runs one iteration, waiting at most timeout_ms (-1: until something happens). */
int evloop_run_once(struct evloop *l, int timeout_ms);
void evloop_stop(struct evloop *l);

/* Monotonic clock in milliseconds / nanoseconds. */
uint64_t evloop_now_ms(void);
uint64_t evloop_now_ns(void);

#endif
