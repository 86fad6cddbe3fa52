/* libFuzzer harness: WebSocket frame reader (server and client roles) on arbitrary bytes. */
#include "onsight/ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	int role;

	if (size < 1)
		return 0;
	role = data[0] & 1;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	for (int cap = 0; cap < 2; cap++) {
		struct ws_reader *r = NULL;
		size_t off = 0, used;
		struct ws_msg m;
		if (ws_reader_alloc(&r, role, cap ? 16387 : 32))
			break;
		for (int i = 0; i < 100000 && off < size - 1; i++) {
			int rc = ws_read(r, buf + off, size - 1 - off, &used, &m);
			off += used;
			if (rc < 0 || (rc == 0 && used == 0))
				break;
			if (rc == 1 && m.op == WS_OP_CLOSE) {
				int st;
				const char *reason;
				size_t rl;
				(void)ws_close_parse(m.data, m.len, &st, &reason, &rl);
			}
		}
		ws_reader_free(r);
		memcpy(buf, data + 1, size - 1); /* unmasked in place: restore */
	}
	free(buf);
	return 0;
}
