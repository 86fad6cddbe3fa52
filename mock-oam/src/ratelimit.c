#include "ratelimit.h"

#include "onsight/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rl_entry {
	char client[64]; /* textual address; empty: free slot */
	time_t first_fail;
	time_t last_seen;
	time_t locked_until;
	unsigned failures;
};

struct ratelimit {
	struct ratelimit_conf conf;
	struct rl_entry *v;
};

int ratelimit_alloc(struct ratelimit **rp, const struct ratelimit_conf *conf)
{
	struct ratelimit *r;

	if (!rp || !conf || conf->max_clients == 0 || conf->max_failures == 0)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->conf = *conf;
	r->v = calloc(conf->max_clients, sizeof(*r->v));
	if (!r->v) {
		free(r);
		return ENOMEM;
	}
	*rp = r;
	return 0;
}

void ratelimit_free(struct ratelimit *r)
{
	if (!r)
		return;
	free(r->v);
	free(r);
}

static struct rl_entry *lookup(struct ratelimit *r, const char *client, int create, time_t now)
{
	struct rl_entry *oldest = NULL;

	for (size_t i = 0; i < r->conf.max_clients; i++) {
		struct rl_entry *e = &r->v[i];
		if (e->client[0] && strcmp(e->client, client) == 0)
			return e;
		if (!oldest || !e->client[0] ||
		    (oldest->client[0] && e->last_seen < oldest->last_seen))
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	str_copy(oldest->client, client, sizeof(oldest->client));
	oldest->first_fail = now;
	return oldest;
}

unsigned ratelimit_locked(struct ratelimit *r, const char *client, time_t now)
{
	struct rl_entry *e = r && client ? lookup(r, client, 0, now) : NULL;

	if (!e || e->locked_until <= now)
		return 0;
	return (unsigned)(e->locked_until - now);
}

unsigned ratelimit_fail(struct ratelimit *r, const char *client, time_t now)
{
	struct rl_entry *e;

	if (!r || !client)
		return 0;
	e = lookup(r, client, 1, now);
	e->last_seen = now;
	/* A new window starts when the old one has passed (or a lockout has ended). */
	if (now - e->first_fail >= (time_t)r->conf.window_s ||
	    (e->locked_until && e->locked_until <= now)) {
		e->first_fail = now;
		e->failures = 0;
		e->locked_until = 0;
	}
	if (++e->failures < r->conf.max_failures)
		return 0;
	e->locked_until = now + (time_t)r->conf.lockout_s;
	return r->conf.lockout_s;
}

void ratelimit_success(struct ratelimit *r, const char *client)
{
	struct rl_entry *e = r && client ? lookup(r, client, 0, 0) : NULL;

	if (e)
		memset(e, 0, sizeof(*e));
}
