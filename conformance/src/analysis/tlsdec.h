/* tlsdec.h - TLS record decryption from NSS key log secrets (analysis internals).
 *
 * Two objects:
 * - struct tls_keys: the secrets of a key log (SSLKEYLOGFILE lines, from a file, from the
 *   Decryption Secrets Blocks of a pcapng, or from memory), looked up by client random.
 * - struct tls_sess: one TLS connection seen on the wire, both directions. The caller splits
 *   each direction's byte stream into whole records (5-byte header + body) and hands them over
 *   in order; the session parses the cleartext handshake (ClientHello random, ServerHello
 *   version and suite), derives the traffic keys when the secrets are known, and returns the
 *   decrypted application data.
 *
 * Supported: TLS 1.3 (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256, handshake and application traffic secrets, KeyUpdate) and
 * TLS 1.2 with AEAD suites (ECDHE/DHE/RSA key exchange with AES-128/256-GCM and
 * ChaCha20-Poly1305; master secret from CLIENT_RANDOM lines). Everything else is reported as
 * not decryptable with the reason. Memory per session is bounded (a few KB: the cleartext
 * handshake message being reassembled is capped).
 */
#ifndef CONFORM_TLSDEC_H
#define CONFORM_TLSDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest plaintext one record can yield (RFC 8446 §5.2: 2^14 + 256 bytes of TLSInnerPlaintext). */
#define TLS_MAX_PLAIN (16384 + 256)

struct tls_keys;

/* max_sessions: cap on distinct client randoms kept (0: a default of 1,000,000). */
int tls_keys_alloc(struct tls_keys **kp, size_t max_sessions);
void tls_keys_free(struct tls_keys *k);
/* Adds the lines of an NSS key log. Comments (#), blank lines and labels this decoder does not
 * use (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, ...) are skipped; malformed lines (bad hex,
 * wrong lengths) are counted in *bad when bad is not NULL. Returns the number of secrets
 * added. */
size_t tls_keys_add_text(struct tls_keys *k, const char *text, size_t len, size_t *bad);
/* Reads a key log file; 0, or an errno with err filled ("FILE: why"). */
int tls_keys_load_file(struct tls_keys *k, const char *path, char *err, size_t errlen);
/* Adds the TLS key log secrets of every Decryption Secrets Block (secrets type 0x544c534b) of a
 * pcapng held in memory. Not a pcapng: returns 0 and adds nothing. A malformed pcapng block
 * structure: returns EINVAL with err filled. */
int tls_keys_from_pcapng_mem(struct tls_keys *k, const void *data, size_t len, char *err,
                             size_t errlen);
/* The same, reading the file block by block (never the whole file into memory). */
int tls_keys_from_pcapng_file(struct tls_keys *k, const char *path, char *err, size_t errlen);
/* Number of client randoms with at least one secret. */
size_t tls_keys_count(const struct tls_keys *k);

struct tls_sess;

/* keys is borrowed and consulted when the session needs its secrets; it may be NULL (then no
 * session is decrypted). NULL on allocation failure. */
struct tls_sess *tls_sess_new(const struct tls_keys *keys);
void tls_sess_free(struct tls_sess *s);

enum tls_rec {
	TLS_REC_NONE, /* nothing for the caller: cleartext handshake, ChangeCipherSpec, an
	               * encrypted handshake record (decrypted and consumed internally) */
	TLS_REC_DATA, /* *out holds *outlen bytes of decrypted application data */
	TLS_REC_ALERT, /* *out holds the 2 alert bytes (level, description), cleartext or decrypted */
	TLS_REC_OPAQUE, /* an encrypted record that is not decrypted (see tls_sess_status) */
	TLS_REC_BAD, /* not a TLS record (bad header); the caller stops treating the stream as TLS */
};

/* One whole record (header + body, len = 5 + body length) of direction dir (0: client to
 * server, 1: server to client), in stream order. out must have room for TLS_MAX_PLAIN bytes.
 * Once a record fails to decrypt (lost bytes, wrong secrets) the direction stops decrypting and
 * returns TLS_REC_OPAQUE for the rest. */
enum tls_rec tls_sess_record(struct tls_sess *s, int dir, const uint8_t *rec, size_t len,
                             uint8_t *out, size_t *outlen);

enum tls_state {
	TLS_ST_HANDSHAKE, /* no encrypted record seen yet */
	TLS_ST_DECRYPTING, /* keys found, records decrypt */
	TLS_ST_NO_KEYS, /* no secrets for this client random in the key log */
	TLS_ST_UNSUPPORTED, /* version or suite this decoder does not do */
	TLS_ST_FAILED, /* a record failed to authenticate (lost sync or wrong secrets) */
};

struct tls_sess_status {
	enum tls_state state;
	unsigned version; /* negotiated: 0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 before ServerHello */
	unsigned suite; /* IANA cipher suite number; 0 before ServerHello */
	const char *suite_name; /* "TLS_AES_128_GCM_SHA256", ... or NULL when unknown */
	const char *reason; /* for NO_KEYS / UNSUPPORTED / FAILED: one line, static or owned by s */
	uint64_t records[2]; /* encrypted records seen per direction */
	uint64_t decrypted[2]; /* of which decrypted */
};
void tls_sess_status(const struct tls_sess *s, struct tls_sess_status *st);

/* "TLS_AES_128_GCM_SHA256" for 0x1301, ...; NULL when unknown. */
const char *tls_suite_name(unsigned suite);

#endif
