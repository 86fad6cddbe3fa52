/* libFuzzer harness: JWT verification on arbitrary bytes. */
#include "onsight/jwt.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = "fuzz-key";
	char *tok = malloc(size + 1);
	json_t *claims = NULL;

	if (!tok)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	if (jwt_verify(key, sizeof(key) - 1, tok, 1800000000, &claims) == JWT_OK)
		json_decref(claims);
	free(tok);
	return 0;
}
