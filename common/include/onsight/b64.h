/* b64.h - base64 (RFC 4648 §4) and base64url without padding (§5, as JWT uses it). */
#ifndef ONSIGHT_B64_H
#define ONSIGHT_B64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length including the NUL. */
size_t b64_enclen(size_t n, int url);
/* Writes NUL-terminated text to out (size >= b64_enclen). Returns the length written. */
size_t b64_encode(const uint8_t *in, size_t n, char *out, int url);
/* Decodes; url accepts '-_' and no padding, standard accepts '+/' with optional padding.
 * Returns 0 and sets *outlen, or EINVAL on a bad character/length, ENOSPC if out is small. */
int b64_decode(const char *in, size_t n, uint8_t *out, size_t outcap, size_t *outlen, int url)
        __attribute__((warn_unused_result));

#endif
