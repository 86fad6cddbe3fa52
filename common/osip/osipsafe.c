/* osipsafe.c - see osipsafe.h. The recorded blocks are an open-addressing hash set of
 * pointers (linear probing, deletion by backward shift), one per thread, alive only during
 * a trial. */
#include "onsight/osipsafe.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct blockset {
	void **slot;
	size_t cap; /* 0 or a power of two */
	size_t n;
	int on; /* recording */
	int failed; /* a block could not be recorded: the trial proves nothing */
};

static _Thread_local struct blockset rec;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static size_t slot_of(const void *p, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (cap - 1);
}

static int grow(struct blockset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 256;
	void **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;
		if (!s->slot[i])
			continue;
		for (j = slot_of(s->slot[i], cap); slot[j]; j = (j + 1) & (cap - 1))
			;
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

static void remember(struct blockset *s, void *p)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && grow(s)) {
		s->failed = 1;
		return;
	}
	for (j = slot_of(p, s->cap); s->slot[j]; j = (j + 1) & (s->cap - 1))
		;
	s->slot[j] = p;
	s->n++;
}

/* Removes p if recorded; returns whether it was. */
static int forget(struct blockset *s, const void *p)
{
	size_t i, j, k;

	if (!s->cap)
		return 0;
	for (i = slot_of(p, s->cap); s->slot[i] != p; i = (i + 1) & (s->cap - 1))
		if (!s->slot[i])
			return 0;
	s->slot[i] = NULL;
	s->n--;
	/* Backward shift: an entry later in the run moves into the hole unless its home slot
	 * lies cyclically in (hole, its slot], so every lookup still finds its entry. */
	for (j = (i + 1) & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1)) {
		k = slot_of(s->slot[j], s->cap);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		s->slot[i] = s->slot[j];
		s->slot[j] = NULL;
		i = j;
	}
	return 1;
}

static void *hook_malloc(size_t n)
{
	void *p = malloc(n);

	if (p && rec.on)
		remember(&rec, p);
	return p;
}

static void *hook_realloc(void *p, size_t n)
{
	int was;
	void *q;

	if (!rec.on)
		return realloc(p, n);
	was = p && forget(&rec, p);
	q = realloc(p, n);
	if (q && (was || !p))
		remember(&rec, q);
	else if (!q && was)
		remember(&rec, p); /* realloc failed: p is still live */
	return q;
}

static void hook_free(void *p)
{
	if (rec.on && p)
		forget(&rec, p);
	free(p);
}

static void init_once(void)
{
	parser_init();
	osip_set_allocators(hook_malloc, hook_realloc, hook_free);
}

void osipsafe_init(void)
{
	pthread_once(&once, init_once);
}

static int mentions_multipart(const char *text, size_t len)
{
	static const char word[] = "multipart";
	const size_t wl = sizeof(word) - 1;

	for (size_t i = 0; i + wl <= len; i++)
		if ((text[i] | 0x20) == 'm' && strncasecmp(text + i, word, wl) == 0)
			return 1;
	return 0;
}

static int parse_once(osip_message_t **out, const char *text, size_t len)
{
	*out = NULL;
	if (osip_message_init(out) != 0) {
		*out = NULL;
		return OSIPSAFE_NOMEM;
	}
	if (osip_message_parse(*out, text, len) != 0) {
		osip_message_free(*out);
		*out = NULL;
		return OSIPSAFE_SYNTAX;
	}
	return OSIPSAFE_OK;
}

/* Parses and frees with recording on; returns OSIPSAFE_LEAKY after freeing what leaked. */
static int trial(const char *text, size_t len)
{
	osip_message_t *m = NULL;
	int leaked = 0, failed;

	rec.on = 1;
	rec.failed = 0;
	if (parse_once(&m, text, len) == OSIPSAFE_OK)
		osip_message_free(m);
	rec.on = 0;
	failed = rec.failed;
	for (size_t i = 0; i < rec.cap; i++) {
		if (rec.slot[i]) {
			free(rec.slot[i]);
			rec.slot[i] = NULL;
			leaked = 1;
		}
	}
	free(rec.slot);
	memset(&rec, 0, sizeof(rec));
	if (failed)
		return OSIPSAFE_NOMEM;
	return leaked ? OSIPSAFE_LEAKY : OSIPSAFE_OK;
}

int osipsafe_parse(osip_message_t **out, const char *text, size_t len)
{
	int r;

	*out = NULL;
	if (!text)
		return OSIPSAFE_SYNTAX;
	osipsafe_init();
	if (mentions_multipart(text, len) && (r = trial(text, len)) != OSIPSAFE_OK)
		return r;
	return parse_once(out, text, len);
}
