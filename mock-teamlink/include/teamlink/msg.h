/* teamlink/msg.h - the teamlink.v1 tunnel messages (docs/protocol/teamlink.md §3.1).
 *
 * Every WebSocket binary message is `type(1) channel(2) payload`. This codec parses and builds
 * them; it knows nothing of sockets.
 */
#ifndef TEAMLINK_MSG_H
#define TEAMLINK_MSG_H

#include <stddef.h>
#include <stdint.h>

#define TL_SUBPROTOCOL "teamlink.v1"
#define TL_PATH "/teamlink/v1/tunnel"
#define TL_HDR 3
#define TL_MAX_PAYLOAD 16384
#define TL_MAX_MSG (TL_HDR + TL_MAX_PAYLOAD)
#define TL_MAX_HOST 255
#define TL_MAX_ERROR_TEXT 200
#define TL_MAX_CLOSE_REASON 125
#define TL_INITIAL_WINDOW 65536u
#define TL_MAX_WINDOW 0x7fffffffu

enum tl_type {
	TL_OPEN_SIP = 0x01,
	TL_OPEN_UDP = 0x02,
	TL_OPENED = 0x03,
	TL_SIP_DATA = 0x04,
	TL_UDP_DATA = 0x05,
	TL_CLOSE = 0x06,
	TL_ERROR = 0x07,
	TL_WINDOW = 0x08,
};

enum tl_transport { TL_TCP = 0, TL_TLS = 1 };

enum tl_code {
	TL_E_BAD_MESSAGE = 400,
	TL_E_FORBIDDEN = 403,
	TL_E_IDLE_TIMEOUT = 408,
	TL_E_CHANNEL_IN_USE = 409,
	TL_E_TOO_LARGE = 413,
	TL_E_TOO_MANY_CHANNELS = 429,
	TL_E_FLOW_CONTROL = 460,
	TL_E_INTERNAL = 500,
	TL_E_CONNECT_FAILED = 502,
	TL_E_SHUTTING_DOWN = 503,
	TL_E_CONNECT_TIMEOUT = 504,
	TL_E_RESOLVE_FAILED = 520,
	TL_E_TLS_FAILED = 525,
	TL_E_REMOTE_RESET = 530,
};

struct tl_msg {
	enum tl_type type;
	uint16_t channel;
	/* OPEN_SIP / OPEN_UDP */
	char host[TL_MAX_HOST + 1];
	uint16_t port;
	enum tl_transport transport;
	/* ERROR */
	uint16_t code;
	/* WINDOW */
	uint32_t increment;
	/* SIP_DATA, UDP_DATA, OPENED, CLOSE reason, ERROR text: borrowed from the input */
	const uint8_t *data;
	size_t len;
};

/* Parses one message. Returns 0, or a TL_E_* code (400 malformed/unknown type, 413 too large)
 * with m->type/channel filled as far as they could be read (channel 0 if shorter than 3). */
int tl_parse(const uint8_t *buf, size_t len, struct tl_msg *m) __attribute__((warn_unused_result));

/* Builders write into out (cap bytes) and return the length, or 0 if it does not fit or an
 * argument is out of range. */
size_t tl_build_open_sip(uint8_t *out, size_t cap, uint16_t ch, const char *host, uint16_t port,
                         enum tl_transport t);
size_t tl_build_open_udp(uint8_t *out, size_t cap, uint16_t ch, const char *host, uint16_t port);
size_t tl_build_error(uint8_t *out, size_t cap, uint16_t ch, uint16_t code, const char *text);
size_t tl_build_window(uint8_t *out, size_t cap, uint16_t ch, uint32_t inc);
/* OPENED, CLOSE and data messages: header + payload bytes. */
size_t tl_build(uint8_t *out, size_t cap, enum tl_type type, uint16_t ch, const void *p, size_t n);
/* Writes just the 3-byte header (for scatter writes of data). */
void tl_header(uint8_t *out, enum tl_type type, uint16_t ch);

const char *tl_type_name(int type);
const char *tl_code_name(int code);

#endif
