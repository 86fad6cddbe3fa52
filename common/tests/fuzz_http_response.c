/* libFuzzer harness: HTTP response head parser and chunked decoder on arbitrary bytes. */
#include "onsight/httpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = memmem(data, size, "\r\n\r\n", 4);
	struct httpc_resp r;
	struct httpc_chunked st = {0};
	uint8_t out[4096];
	size_t ol = 0, used, off;

	if (!end)
		return 0;
	off = (size_t)(end - data) + 4;
	if (httpc_parse_head((const char *)data, off, &r) == 0) {
		(void)httpc_resp_header(&r, "Content-Length");
		httpc_resp_clear(&r);
	}
	/* the rest as a chunked body, fed in two pieces */
	for (int i = 0; i < 2 && off < size; i++) {
		size_t n = i == 0 ? (size - off) / 2 : size - off;
		int rc = httpc_chunked_feed(&st, data + off, n, &used, out, sizeof(out), &ol);
		off += used;
		if (rc)
			break;
	}
	return 0;
}
