/* libFuzzer harness: SIP stream and datagram framing on arbitrary bytes, fed in two pieces. */
#include "onsight/sipframe.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipframe *f = NULL;
	struct sipframe_info fi;
	const char *msg;
	size_t len, cut = size ? data[0] % (size + 1) : 0;
	int r;

	(void)sipframe_scan((const char *)data, size, 4096, 0, &fi);
	if (sipframe_alloc(&f, 4096))
		return 0;
	if (sipframe_feed(f, data, cut) == 0 && sipframe_feed(f, data + cut, size - cut) == 0) {
		for (int i = 0; i < 1000; i++) {
			r = sipframe_next(f, &msg, &len);
			if (r <= 0)
				break;
			if (r == SIPFRAME_MSG && len && msg[0] == '\0')
				break;
			if (r == SIPFRAME_MSG) {
				char v[32];
				(void)sipframe_header(msg, len, "Via", v, sizeof(v));
			}
		}
	}
	sipframe_free(f);
	return 0;
}
