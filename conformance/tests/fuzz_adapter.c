/* fuzz_adapter.c - adapter files from anyone: parse, then expand everything they name. */
#include "adapter.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct adapter *a = NULL;
	char err[256];
	struct adapter_vars v = {.oam_url = "https://o",
	                         .username = "u",
	                         .password = "p",
	                         .ca_file = "/ca",
	                         .workdir = "/nonexistent-dir",
	                         .events = "/e",
	                         .sip_uri = "sip:u@d",
	                         .keylog = "/k"};
	char **argv = NULL, **env = NULL;

	if (adapter_parse(&a, "fuzz", (const char *)data, size, err, sizeof(err)))
		return 0;
	if (!adapter_argv(a, &v, &argv, err, sizeof(err)))
		adapter_strv_free(argv);
	if (!adapter_envv(a, &v, &env, err, sizeof(err)))
		adapter_strv_free(env);
	(void)adapter_ready_match(a, "baresip is ready.");
	adapter_free(a);
	return 0;
}
