/* fuzz_profile - the profile parser and compiler on arbitrary bytes: whatever loads must
 * compile to a batch and to service configurations without crashing. */
#include "nftgen.h"
#include "profile.h"
#include "svc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	char err[512], buf[8192];

	if (profile_parse(&p, "fuzz.json", (const char *)data, size, NULL, err, sizeof(err)) != 0)
		return 0;
	json_decref(nftgen_fw(p));
	json_decref(nftgen_impair(p, "ep"));
	(void)svc_proxy_filter(buf, sizeof(buf), p);
	(void)svc_tinyproxy(buf, sizeof(buf), p, "/x");
	profile_free(p);
	return 0;
}
