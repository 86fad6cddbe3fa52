/* ws.h - WebSocket framing (RFC 6455 §5) and the opening-handshake keys (§4), capped.
 *
 * The reader parses frames from a caller's buffer, unmasks in place and reassembles
 * fragmented messages into its own buffer of at most max_msg bytes. It enforces the rules of
 * §5: masking by role, control frames <= 125 bytes and unfragmented, no RSV bits (no
 * extensions are negotiated), continuation only inside a fragmented message, UTF-8 is not
 * checked (text messages are refused by the tunnel anyway).
 */
#ifndef ONSIGHT_WS_H
#define ONSIGHT_WS_H

#include <stddef.h>
#include <stdint.h>

enum ws_op {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close status codes (RFC 6455 §7.4.1). */
enum ws_status {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

#define WS_MAX_HEADER 14 /* 2 + 8 (length) + 4 (mask) */
#define WS_MAX_CONTROL 125
#define WS_KEY_LEN 24 /* base64 of 16 bytes */
#define WS_ACCEPT_LEN 28 /* base64 of SHA-1 */

struct ws_reader;

/* expect_masked: 1 on a server (client frames are masked), 0 on a client. */
int ws_reader_alloc(struct ws_reader **rp, int expect_masked, size_t max_msg)
        __attribute__((warn_unused_result));
void ws_reader_free(struct ws_reader *r);

struct ws_msg {
	enum ws_op op; /* TEXT, BINARY (whole message), CLOSE, PING, PONG */
	const uint8_t *data; /* borrowed: valid until the next ws_read or until buf changes */
	size_t len;
};

/* Parses from buf[0..len) (the buffer is modified: payloads are unmasked in place).
 * Returns 1 and fills *m when a message or control frame is complete, 0 when more bytes are
 * needed, or -1 on a protocol error (ws_reader_status gives the close code to send).
 * *used is always set to the bytes consumed; a frame is consumed only when whole, so the
 * caller's buffer must hold max_msg + WS_MAX_HEADER bytes. */
int ws_read(struct ws_reader *r, uint8_t *buf, size_t len, size_t *used, struct ws_msg *m)
        __attribute__((warn_unused_result));
/* The close code for the last error (WS_CLOSE_PROTOCOL, WS_CLOSE_TOO_BIG, ...). */
int ws_reader_status(const struct ws_reader *r);
const char *ws_reader_error(const struct ws_reader *r);

/* Writes a frame header for a payload of len bytes into hdr (WS_MAX_HEADER bytes); returns
 * its length. mask NULL: unmasked (server). With a mask, the caller masks the payload with
 * ws_mask (offset 0). */
size_t ws_frame_header(uint8_t *hdr, enum ws_op op, int fin, uint64_t len, const uint8_t *mask);
/* XORs data with the 4-byte key, starting at key position offset % 4. */
void ws_mask(uint8_t *data, size_t len, const uint8_t key[4], size_t offset);

/* A fresh random Sec-WebSocket-Key (out: WS_KEY_LEN + 1 bytes). */
int ws_key_new(char *out) __attribute__((warn_unused_result));
/* 1 if key is base64 of exactly 16 bytes (§4.2.1 item 5). */
int ws_key_valid(const char *key);
/* Sec-WebSocket-Accept for key (out: WS_ACCEPT_LEN + 1 bytes). */
void ws_accept(const char *key, char *out);

/* Parses a close frame's payload: status (or WS_CLOSE_NO_STATUS) and reason (not
 * NUL-terminated). Returns -1 if the payload is malformed (one byte, or a reserved code). */
int ws_close_parse(const uint8_t *p, size_t len, int *status, const char **reason,
                   size_t *reasonlen);

#endif
