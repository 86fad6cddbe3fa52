/* ratelimit.h - failed-login tracking per client address.
 *
 * After max_failures failures within window_s seconds a client is locked out for lockout_s
 * seconds. The table holds at most max_clients entries; when full, the entry seen longest
 * ago is reused, so memory stays bounded whatever the number of clients.
 */
#ifndef MOCK_OAM_RATELIMIT_H
#define MOCK_OAM_RATELIMIT_H

#include <stddef.h>
#include <time.h>

struct ratelimit;

struct ratelimit_conf {
	unsigned max_failures;
	unsigned window_s;
	unsigned lockout_s;
	size_t max_clients;
};

int ratelimit_alloc(struct ratelimit **rp, const struct ratelimit_conf *conf)
        __attribute__((warn_unused_result));
void ratelimit_free(struct ratelimit *r);
/* Seconds until client may try again (0: not locked out). */
unsigned ratelimit_locked(struct ratelimit *r, const char *client, time_t now);
/* Records a failure; returns the lockout in seconds it started (0: none yet). */
unsigned ratelimit_fail(struct ratelimit *r, const char *client, time_t now);
/* A success forgets the client's failures. */
void ratelimit_success(struct ratelimit *r, const char *client);

#endif
