/* libFuzzer harness: the Firewall Detect server's stateless SIP answer on arbitrary bytes. */
#include "onsight/probesrv.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PROBESRV_MAX_MSG];

	(void)probesrv_answer((const char *)data, size, out, sizeof(out));
	(void)probesrv_answer((const char *)data, size, out, 64);
	return 0;
}
