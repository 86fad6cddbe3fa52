/* fakesrv.h - tiny scripted servers on 127.0.0.1:0 for the endpoint's tests, each in a
 * forked child so a misbehaving endpoint cannot wedge the test. */
#ifndef EP_FAKESRV_H
#define EP_FAKESRV_H

#include <stddef.h>
#include <sys/types.h>

struct fake_route {
	const char *path_prefix; /* matched against the request path */
	const char *response; /* whole HTTP response, sent as is */
};

struct fakesrv {
	pid_t pid;
	unsigned port;
};

/* HTTPS (cert/key PEM) answering by path from routes (NULL-terminated by path_prefix);
 * unmatched paths get 404. */
int fake_https(struct fakesrv *s, const char *cert, const char *key,
               const struct fake_route *routes);
/* TCP: accepts, reads up to one buffer, writes reply (may be NULL), then closes when
 * close_after is set, else holds the connection until the peer goes. */
int fake_tcp(struct fakesrv *s, const char *reply, size_t len, int close_after);
void fake_stop(struct fakesrv *s);

/* The endpoint as a child with stdout on a pipe. */
struct epchild {
	pid_t pid;
	int fd;
	char *text; /* everything read so far */
	size_t len, cap;
	size_t from; /* ep_wait looks at lines from here on (ep_mark) */
};

int ep_spawn(struct epchild *e, char *const argv[]);
/* Reads until a line containing every needle (NULL-terminated list) shows up or timeout. */
int ep_wait(struct epchild *e, unsigned timeout_ms, const char *const *needles);
/* Later ep_wait calls only look at what is read from now on. */
void ep_mark(struct epchild *e);
/* Counts lines containing needle in what was read. */
int ep_count(const struct epchild *e, const char *needle);
/* Waits for exit (up to timeout_ms, then SIGKILL); returns the exit status or -1. */
int ep_finish(struct epchild *e, unsigned timeout_ms);

#endif
