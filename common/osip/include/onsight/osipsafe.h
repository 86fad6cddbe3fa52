/* osipsafe.h - libosip2 message parsing that cannot leak.
 *
 * libosip2 5.3 leaks memory on some malformed input. The known case: a part of a multipart
 * body that carries a second header whose name starts with "content-type" (lines may end in
 * CR, LF or CRLF). The part's first Content-Type is overwritten, not freed (osip_body.c).
 * Rules that mimic libosip2's part parser miss cases, so no such rules are used here.
 *
 * osipsafe_parse() first parses in a trial run whenever the message can reach the multipart
 * code, that is whenever the word "multipart" appears in it (any case). During the trial,
 * libosip2's allocator hooks record every block the calling thread allocates. Blocks still
 * recorded after the trial message is freed are leaks. They are freed, and the message is
 * refused with OSIPSAFE_LEAKY. Other messages are parsed once.
 *
 * The hooks are per thread: other threads' libosip2 calls are not recorded.
 */
#ifndef ONSIGHT_OSIPSAFE_H
#define ONSIGHT_OSIPSAFE_H

#include <stddef.h>
#include <stdlib.h> /* libosip2's headers need these under -std=c11 */
#include <sys/time.h>

#include <osipparser2/osip_parser.h>

enum osipsafe_result {
	OSIPSAFE_OK = 0,
	OSIPSAFE_SYNTAX = -1, /* libosip2 refused the message */
	OSIPSAFE_NOMEM = -2,
	OSIPSAFE_LEAKY = -3, /* libosip2 would leak on this message: refused */
};

/* parser_init() and the allocator hooks, once per process (later calls do nothing). Call it
 * before any other libosip2 call; osipsafe_parse() calls it too. */
void osipsafe_init(void);

/* Parses text[0..len) into a new message in *out (the caller frees it with
 * osip_message_free). On any result other than OSIPSAFE_OK, *out is NULL. */
int osipsafe_parse(osip_message_t **out, const char *text, size_t len);

#endif
