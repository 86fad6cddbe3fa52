/* libFuzzer harness: stream framing, then parsing and validation of each framed message,
 * then the raw 400 builder, as mock-sip does for what arrives on a connection. */
#include "onsight/sipframe.h"
#include "sipmsg.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *msg, size_t len)
{
	struct sipmsg m;
	const char *reason;
	char out[4096];
	int st = sipmsg_parse(&m, msg, len, &reason);

	if (st > 0)
		(void)sipmsg_raw_response(msg, len, st, reason, out, sizeof(out));
	sipmsg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipframe *f = NULL;
	struct sipframe_info fi;
	const char *msg;
	size_t len;
	int r;

	sipmsg_global_init();
	if (sipframe_scan((const char *)data, size, 16384, 0, &fi) == SIPFRAME_MSG)
		one((const char *)data + fi.skip, fi.hdr_len + fi.body_len);
	if (sipframe_alloc(&f, 16384))
		return 0;
	if (sipframe_feed(f, data, size) == 0)
		for (int i = 0; i < 64 && (r = sipframe_next(f, &msg, &len)) > 0; i++)
			if (r == SIPFRAME_MSG)
				one(msg, len);
	sipframe_free(f);
	return 0;
}
