/* stun.h - STUN message codec (RFC 5389): Binding requests and responses, XOR-MAPPED-ADDRESS,
 * MAPPED-ADDRESS, USERNAME, SOFTWARE, ERROR-CODE, MESSAGE-INTEGRITY (HMAC-SHA1 with a
 * short-term or long-term key) and FINGERPRINT (CRC-32 xor 0x5354554e).
 *
 * Decoding borrows the buffer: struct stun_msg points into it. Messages longer than
 * STUN_MAX_MSG are refused; unknown comprehension-optional attributes are skipped,
 * unknown comprehension-required ones are listed so a server can answer 420.
 */
#ifndef ONSIGHT_STUN_H
#define ONSIGHT_STUN_H

#include "onsight/sock.h"

#include <stddef.h>
#include <stdint.h>

#define STUN_HDR_LEN 20
#define STUN_MAGIC 0x2112A442u
#define STUN_MAX_MSG 1500 /* one MTU: larger datagrams are not STUN we answer */
#define STUN_MAX_UNKNOWN 8

/* Message types (method | class bits, RFC 5389 §6). */
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_INDICATION 0x0011
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111

/* Attribute types (RFC 5389 §18.2). */
#define STUN_ATTR_MAPPED_ADDRESS 0x0001
#define STUN_ATTR_USERNAME 0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define STUN_ATTR_ERROR_CODE 0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_REALM 0x0014
#define STUN_ATTR_NONCE 0x0015
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_SOFTWARE 0x8022
#define STUN_ATTR_FINGERPRINT 0x8028

struct stun_str {
	const char *p; /* not NUL-terminated; NULL when absent */
	size_t len;
};

struct stun_msg {
	uint16_t type;
	uint16_t length; /* of the attributes */
	uint8_t tid[12];
	int has_mapped; /* XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	struct sock_addr mapped;
	struct stun_str username, realm, nonce, software, reason;
	int error_code; /* 0 when absent */
	/* Offset of the MESSAGE-INTEGRITY attribute header in the buffer, 0 when absent. */
	size_t integrity_off;
	int has_fingerprint; /* present and verified by stun_decode */
	uint16_t unknown[STUN_MAX_UNKNOWN]; /* comprehension-required types not understood */
	unsigned n_unknown;
};

/* Cheap test for demultiplexing STUN from RTP/SIP on one port: top two bits zero, the magic
 * cookie, a length that is a multiple of four and fits. Returns 1 or 0. */
int stun_is_message(const uint8_t *buf, size_t len);

/* Decodes buf. Returns 0, EBADMSG (malformed, attribute overrun, FINGERPRINT present but
 * wrong, attributes after FINGERPRINT) or EMSGSIZE (longer than STUN_MAX_MSG). */
int stun_decode(struct stun_msg *m, const uint8_t *buf, size_t len)
        __attribute__((warn_unused_result));

/* Checks MESSAGE-INTEGRITY (RFC 5389 §15.4) of a decoded message with key (the password
 * for short-term credentials; MD5(username:realm:password) for long-term). Returns 0,
 * ENOENT when the message has none, EACCES when it does not match. */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *buf, size_t len,
                         const uint8_t *key, size_t keylen) __attribute__((warn_unused_result));

/* Long-term key: MD5("username:realm:password") into out[16] (RFC 5389 §15.4; the caller
 * applies SASLprep, which is the identity for ASCII). */
void stun_longterm_key(const char *username, const char *realm, const char *password,
                       uint8_t out[16]);

/* Builder over a caller buffer. Each add returns 0 or ENOSPC; errors stick until finish. */
struct stun_builder {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

void stun_build_begin(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                      const uint8_t tid[12]);
int stun_add_xor_address(struct stun_builder *b, uint16_t type, const struct sock_addr *sa);
int stun_add_bytes(struct stun_builder *b, uint16_t type, const void *val, size_t len);
int stun_add_error(struct stun_builder *b, int code, const char *reason);
/* Appends MESSAGE-INTEGRITY (key may be NULL: none) and FINGERPRINT (if fingerprint) and
 * returns the message length in *lenp. Returns 0 or ENOSPC. */
int stun_build_finish(struct stun_builder *b, const uint8_t *key, size_t keylen, int fingerprint,
                      size_t *lenp) __attribute__((warn_unused_result));

/* A whole Binding success response to req with XOR-MAPPED-ADDRESS = from, SOFTWARE, and
 * MESSAGE-INTEGRITY when key is given, FINGERPRINT when fingerprint. */
int stun_binding_response(uint8_t *out, size_t cap, const struct stun_msg *req,
                          const struct sock_addr *from, const uint8_t *key, size_t keylen,
                          int fingerprint, size_t *lenp) __attribute__((warn_unused_result));
/* An error response (400, 401, 420 with UNKNOWN-ATTRIBUTES from req) to req. */
int stun_error_response(uint8_t *out, size_t cap, const struct stun_msg *req, int code,
                        const char *reason, size_t *lenp) __attribute__((warn_unused_result));

#endif
