#include "onsight/osipsafe.h"

#include "testutil.h"
#include <check.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(UNDER_ASAN)
#define UNDER_ASAN 1
#endif

/* A MESSAGE whose multipart/mixed body has the given parts (each "headers CRLF body"). */
static char *message(const char *parts)
{
	static const char fmt[] = "MESSAGE sip:k@example.org SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-1\r\n"
	                          "Max-Forwards: 70\r\n"
	                          "To: <sip:k@example.org>\r\n"
	                          "From: <sip:f@example.com>;tag=1\r\n"
	                          "Call-ID: c1\r\n"
	                          "CSeq: 1 MESSAGE\r\n"
	                          "Content-Type: multipart/mixed;boundary=b1\r\n"
	                          "Content-Length: %zu\r\n\r\n%s";
	size_t cap = sizeof(fmt) + strlen(parts) + 32;
	char *m = malloc(cap);

	ck_assert_ptr_nonnull(m);
	snprintf(m, cap, fmt, strlen(parts), parts);
	return m;
}

static const char good_parts[] = "--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
                                 "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"
                                 "--b1--\r\n";

/* Parts on which libosip2 5.3 overwrites the part's first Content-Type without freeing it:
 * its part parser takes any header name starting "content-type", and CR, LF or CRLF as a
 * line end. */
static const char *const leaky_parts[] = {
        "--b1\r\nContent-Type: text/plain\r\nContent-Type: text/x\r\n\r\nHi\r\n--b1--\r\n",
        "--b1\r\nContent-Type: text/plain\r\ncontent-typeZZ: text/x\r\n\r\nHi\r\n--b1--\r\n",
        "--b1\r\nContent-Type: text/plain\rContent-Type: text/x\r\n\r\nHi\r\n--b1--\r\n",
        "--b1\nCONTENT-TYPE: text/plain\nContent-Type: a/b\n\nHi\r\n--b1--\r\n",
};

START_TEST(test_osipsafe_parses_a_plain_request)
{
	static const char req[] = "OPTIONS sip:a@example.org SIP/2.0\r\n"
	                          "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-2\r\n"
	                          "To: <sip:a@example.org>\r\nFrom: <sip:b@example.org>;tag=9\r\n"
	                          "Call-ID: o1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	osip_message_t *m = (osip_message_t *)1;

	ck_assert_int_eq(osipsafe_parse(&m, req, sizeof(req) - 1), OSIPSAFE_OK);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->sip_method, "OPTIONS");
	ck_assert_str_eq(m->cseq->number, "7");
	osip_message_free(m);
}
END_TEST

START_TEST(test_osipsafe_parses_a_sound_multipart_body)
{
	char *text = message(good_parts);
	osip_message_t *m = NULL;
	osip_body_t *b = NULL;

	ck_assert_int_eq(osipsafe_parse(&m, text, strlen(text)), OSIPSAFE_OK);
	ck_assert_int_eq(osip_list_size(&m->bodies), 2);
	b = osip_list_get(&m->bodies, 1);
	ck_assert_str_eq(b->content_type->type, "application");
	ck_assert_str_eq(b->content_type->subtype, "sdp");
	osip_message_free(m);
	free(text);
}
END_TEST

START_TEST(test_osipsafe_refuses_parts_libosip2_leaks_on)
{
	for (size_t i = 0; i < sizeof(leaky_parts) / sizeof(leaky_parts[0]); i++) {
		char *text = message(leaky_parts[i]);
		osip_message_t *m = (osip_message_t *)1;

		ck_assert_msg(osipsafe_parse(&m, text, strlen(text)) == OSIPSAFE_LEAKY, "part %zu",
		              i);
		ck_assert_ptr_null(m);
		free(text);
	}
}
END_TEST

/* Under ASan the leak checker at exit decides; elsewhere the heap must not grow. */
START_TEST(test_osipsafe_refusal_frees_what_libosip2_dropped)
{
	char *text = message(leaky_parts[1]);
	osip_message_t *m = NULL;
#ifndef UNDER_ASAN
	size_t before;

	ck_assert_int_eq(osipsafe_parse(&m, text, strlen(text)), OSIPSAFE_LEAKY);
	before = mallinfo2().uordblks;
#endif
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(osipsafe_parse(&m, text, strlen(text)), OSIPSAFE_LEAKY);
#ifndef UNDER_ASAN
	/* 2000 leaks of 86 bytes would be 172,000 bytes */
	ck_assert_uint_lt(mallinfo2().uordblks - before, 4096);
#endif
	free(text);
}
END_TEST

/* Thousands of blocks in one trial: the block set grows and deletes many times. A block
 * lost by the set would be reported as a leak (and freed twice). */
START_TEST(test_osipsafe_many_headers_in_a_trial)
{
	size_t cap = 200000, o = 0;
	char *parts = malloc(cap), *text;
	osip_message_t *m = NULL;

	ck_assert_ptr_nonnull(parts);
	o += (size_t)snprintf(parts + o, cap - o, "--b1\r\nContent-Type: text/plain\r\n");
	for (int i = 0; i < 3000; i++)
		o += (size_t)snprintf(parts + o, cap - o, "X-H%d: v%d\r\n", i, i);
	snprintf(parts + o, cap - o, "\r\nHi\r\n--b1--\r\n");
	text = message(parts);
	ck_assert_int_eq(osipsafe_parse(&m, text, strlen(text)), OSIPSAFE_OK);
	ck_assert_int_eq(osip_list_size(((osip_body_t *)osip_list_get(&m->bodies, 0))->headers),
	                 3000);
	osip_message_free(m);
	free(text);
	free(parts);
}
END_TEST

struct worker {
	const char *text;
	int want, bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	osip_message_t *m = NULL;

	for (int i = 0; i < 300; i++) {
		if (osipsafe_parse(&m, w->text, strlen(w->text)) != w->want)
			w->bad++;
		osip_message_free(m);
		m = NULL;
	}
	return NULL;
}

/* One thread's trial must not record, or free, another thread's blocks. */
START_TEST(test_osipsafe_threads_do_not_share_trials)
{
	struct worker w[4] = {{NULL, OSIPSAFE_LEAKY, 0},
	                      {NULL, OSIPSAFE_OK, 0},
	                      {NULL, OSIPSAFE_LEAKY, 0},
	                      {NULL, OSIPSAFE_OK, 0}};
	char *leaky = message(leaky_parts[0]), *good = message(good_parts);
	pthread_t t[4];

	osipsafe_init();
	for (int i = 0; i < 4; i++) {
		w[i].text = i % 2 ? good : leaky;
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].bad, 0);
	}
	free(leaky);
	free(good);
}
END_TEST

START_TEST(test_osipsafe_refuses_junk)
{
	osip_message_t *m = (osip_message_t *)1;

	ck_assert_int_eq(osipsafe_parse(&m, "multipart nonsense", 18), OSIPSAFE_SYNTAX);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(osipsafe_parse(&m, NULL, 0), OSIPSAFE_SYNTAX);
}
END_TEST

TU_SUITE("osipsafe", test_osipsafe_parses_a_plain_request,
         test_osipsafe_parses_a_sound_multipart_body, test_osipsafe_refuses_parts_libosip2_leaks_on,
         test_osipsafe_refusal_frees_what_libosip2_dropped, test_osipsafe_many_headers_in_a_trial,
         test_osipsafe_threads_do_not_share_trials, test_osipsafe_refuses_junk)
