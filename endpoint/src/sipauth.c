/* sipauth.c - digest answers for the user agent. */
#include "sipauth.h"

#include "sipmsg.h"

#include "onsight/digest.h"

#include <errno.h>
#include <strings.h>

int sipauth_answer(const char *challenge, const char *user, const char *password,
                   const char *method, const char *uri, unsigned nc, char *out, size_t len)
{
	struct digest_params ch;
	char cnonce[17];
	int err;

	if (!challenge || !user || !password || !method || !uri || !out)
		return EINVAL;
	err = digest_parse(challenge, &ch);
	if (err)
		return err;
	if (!ch.nonce[0] || !ch.realm[0])
		return EINVAL;
	if (ch.algorithm[0] && strcasecmp(ch.algorithm, "MD5") != 0)
		return EPROTONOSUPPORT;
	sip_random_token(cnonce, 16);
	return digest_authorization(out, len, &ch, user, password, method, uri, nc, cnonce);
}
