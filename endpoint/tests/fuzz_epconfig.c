/* fuzz_epconfig - the OAM configuration document parser on arbitrary bytes. */
#include "epconfig.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epconfig c;
	char err[256];

	if (epconfig_parse(&c, (const char *)data, size, err, sizeof(err)) == 0) {
		/* Invariants the rest of the endpoint relies on. */
		if (!c.pub.set && !c.priv.set)
			__builtin_trap();
		if (c.port_min > c.port_max || c.port_min < 1024)
			__builtin_trap();
	}
	return 0;
}
