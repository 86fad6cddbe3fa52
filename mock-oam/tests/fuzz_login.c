/* libFuzzer harness: login request bodies (api_parse_login) and the login route. */
#include "api.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct login_req lr;
	char err[256];

	(void)api_parse_login((const char *)data, size, &lr, err, sizeof(err));
	return 0;
}
