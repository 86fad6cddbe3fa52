/* libFuzzer harness: endpoint configuration documents (oamcfg_validate). */
#include "accounts.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *cfg = json_loadb((const char *)data, size, 0, NULL);
	char err[512];

	if (cfg) {
		(void)oamcfg_validate(cfg, "$", err, sizeof(err));
		json_decref(cfg);
	}
	return 0;
}
