#include "onsight/b64.h"

#include <errno.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_enclen(size_t n, int url)
{
	return (url ? (n * 4 + 2) / 3 : ((n + 2) / 3) * 4) + 1;
}

size_t b64_encode(const uint8_t *in, size_t n, char *out, int url)
{
	const char *tab = url ? b64_url : b64_std;
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		if (!url) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int b64_decode(const char *in, size_t n, uint8_t *out, size_t outcap, size_t *outlen, int url)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (!url) {
		/* Padding only at the end, at most two, and only to a multiple of four. */
		size_t pad = 0;
		while (pad < 2 && n > 0 && in[n - 1] == '=') {
			n--;
			pad++;
		}
		if (pad && (n + pad) % 4)
			return EINVAL;
	}
	if (n % 4 == 1)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(in[i], url);
		if (v < 0)
			return EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outcap)
				return ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (RFC 4648 §3.5: canonical encoding). */
	if (bits && (acc & ((1u << bits) - 1)))
		return EINVAL;
	*outlen = o;
	return 0;
}
