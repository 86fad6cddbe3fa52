/* msg.c - teamlink.v1 message codec. */
#include "teamlink/msg.h"

#include <string.h>

static int host_ok(const uint8_t *p, size_t n)
{
	if (n == 0 || n > TL_MAX_HOST)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '/' || p[i] == '@')
			return 0;
	return 1;
}

int tl_parse(const uint8_t *buf, size_t len, struct tl_msg *m)
{
	const uint8_t *p;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (!buf || len < TL_HDR)
		return TL_E_BAD_MESSAGE;
	m->type = buf[0];
	m->channel = (uint16_t)(buf[1] << 8 | buf[2]);
	p = buf + TL_HDR;
	n = len - TL_HDR;
	if (n > TL_MAX_PAYLOAD)
		return TL_E_TOO_LARGE;
	switch (m->type) {
	case TL_OPEN_SIP:
		if (n < 4 || !host_ok(p + 3, n - 3) || (p[2] != TL_TCP && p[2] != TL_TLS))
			return TL_E_BAD_MESSAGE;
		m->port = (uint16_t)(p[0] << 8 | p[1]);
		m->transport = p[2];
		memcpy(m->host, p + 3, n - 3);
		break;
	case TL_OPEN_UDP:
		if (n < 3 || !host_ok(p + 2, n - 2))
			return TL_E_BAD_MESSAGE;
		m->port = (uint16_t)(p[0] << 8 | p[1]);
		memcpy(m->host, p + 2, n - 2);
		break;
	case TL_SIP_DATA:
		if (n == 0)
			return TL_E_BAD_MESSAGE;
		/* fall through */
	case TL_OPENED:
	case TL_UDP_DATA:
		m->data = p;
		m->len = n;
		break;
	case TL_CLOSE:
		if (n > TL_MAX_CLOSE_REASON)
			return TL_E_BAD_MESSAGE;
		m->data = p;
		m->len = n;
		break;
	case TL_ERROR:
		if (n < 2 || n - 2 > TL_MAX_ERROR_TEXT)
			return TL_E_BAD_MESSAGE;
		m->code = (uint16_t)(p[0] << 8 | p[1]);
		m->data = p + 2;
		m->len = n - 2;
		break;
	case TL_WINDOW:
		if (n != 4)
			return TL_E_BAD_MESSAGE;
		m->increment =
		        (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (m->increment == 0 || m->increment > TL_MAX_WINDOW)
			return TL_E_BAD_MESSAGE;
		break;
	default:
		return TL_E_BAD_MESSAGE;
	}
	if ((m->type == TL_OPEN_SIP || m->type == TL_OPEN_UDP) && m->channel == 0)
		return TL_E_BAD_MESSAGE;
	return 0;
}

void tl_header(uint8_t *out, enum tl_type type, uint16_t ch)
{
	out[0] = (uint8_t)type;
	out[1] = (uint8_t)(ch >> 8);
	out[2] = (uint8_t)ch;
}

size_t tl_build(uint8_t *out, size_t cap, enum tl_type type, uint16_t ch, const void *p, size_t n)
{
	if (n > TL_MAX_PAYLOAD || cap < TL_HDR + n)
		return 0;
	tl_header(out, type, ch);
	if (n)
		memcpy(out + TL_HDR, p, n);
	return TL_HDR + n;
}

size_t tl_build_open_sip(uint8_t *out, size_t cap, uint16_t ch, const char *host, uint16_t port,
                         enum tl_transport t)
{
	size_t hl = host ? strlen(host) : 0;

	if (!ch || !host_ok((const uint8_t *)host, hl) || cap < TL_HDR + 3 + hl ||
	    (t != TL_TCP && t != TL_TLS))
		return 0;
	tl_header(out, TL_OPEN_SIP, ch);
	out[3] = (uint8_t)(port >> 8);
	out[4] = (uint8_t)port;
	out[5] = (uint8_t)t;
	memcpy(out + 6, host, hl);
	return TL_HDR + 3 + hl;
}

size_t tl_build_open_udp(uint8_t *out, size_t cap, uint16_t ch, const char *host, uint16_t port)
{
	size_t hl = host ? strlen(host) : 0;

	if (!ch || !host_ok((const uint8_t *)host, hl) || cap < TL_HDR + 2 + hl)
		return 0;
	tl_header(out, TL_OPEN_UDP, ch);
	out[3] = (uint8_t)(port >> 8);
	out[4] = (uint8_t)port;
	memcpy(out + 5, host, hl);
	return TL_HDR + 2 + hl;
}

size_t tl_build_error(uint8_t *out, size_t cap, uint16_t ch, uint16_t code, const char *text)
{
	size_t tl = text ? strlen(text) : 0;

	if (tl > TL_MAX_ERROR_TEXT)
		tl = TL_MAX_ERROR_TEXT;
	if (cap < TL_HDR + 2 + tl)
		return 0;
	tl_header(out, TL_ERROR, ch);
	out[3] = (uint8_t)(code >> 8);
	out[4] = (uint8_t)code;
	if (tl)
		memcpy(out + 5, text, tl);
	return TL_HDR + 2 + tl;
}

size_t tl_build_window(uint8_t *out, size_t cap, uint16_t ch, uint32_t inc)
{
	if (cap < TL_HDR + 4 || inc == 0 || inc > TL_MAX_WINDOW)
		return 0;
	tl_header(out, TL_WINDOW, ch);
	out[3] = (uint8_t)(inc >> 24);
	out[4] = (uint8_t)(inc >> 16);
	out[5] = (uint8_t)(inc >> 8);
	out[6] = (uint8_t)inc;
	return TL_HDR + 4;
}

const char *tl_type_name(int type)
{
	static const char *const names[] = {"?",      "OPEN_SIP", "OPEN_UDP",
	                                    "OPENED", "SIP_DATA", "UDP_DATA",
	                                    "CLOSE",  "ERROR",    "WINDOW"};
	return type > 0 && type < 9 ? names[type] : "?";
}

const char *tl_code_name(int code)
{
	switch (code) {
	case TL_E_BAD_MESSAGE:
		return "BAD_MESSAGE";
	case TL_E_FORBIDDEN:
		return "FORBIDDEN";
	case TL_E_IDLE_TIMEOUT:
		return "IDLE_TIMEOUT";
	case TL_E_CHANNEL_IN_USE:
		return "CHANNEL_IN_USE";
	case TL_E_TOO_LARGE:
		return "TOO_LARGE";
	case TL_E_TOO_MANY_CHANNELS:
		return "TOO_MANY_CHANNELS";
	case TL_E_FLOW_CONTROL:
		return "FLOW_CONTROL";
	case TL_E_INTERNAL:
		return "INTERNAL";
	case TL_E_CONNECT_FAILED:
		return "CONNECT_FAILED";
	case TL_E_SHUTTING_DOWN:
		return "SHUTTING_DOWN";
	case TL_E_CONNECT_TIMEOUT:
		return "CONNECT_TIMEOUT";
	case TL_E_RESOLVE_FAILED:
		return "RESOLVE_FAILED";
	case TL_E_TLS_FAILED:
		return "TLS_FAILED";
	case TL_E_REMOTE_RESET:
		return "REMOTE_RESET";
	default:
		return "UNKNOWN";
	}
}
