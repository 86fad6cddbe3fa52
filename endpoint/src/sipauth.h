/* sipauth.h - answering a SIP digest challenge (RFC 3261 §22.4) with common/digest. */
#ifndef EP_SIPAUTH_H
#define EP_SIPAUTH_H

#include <stddef.h>

/* Writes the Authorization value answering challenge (a WWW-Authenticate or
 * Proxy-Authenticate value) for method/uri, nc'th use of the nonce. Returns 0,
 * EPROTONOSUPPORT (not Digest, or an algorithm other than MD5), EINVAL, ENOSPC. */
int sipauth_answer(const char *challenge, const char *user, const char *password,
                   const char *method, const char *uri, unsigned nc, char *out, size_t len)
        __attribute__((warn_unused_result));

#endif
