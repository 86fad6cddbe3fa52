/* epconfig.h - the endpoint configuration document from OAM (docs/protocol/oam.md).
 *
 * Parsed strictly into a plain struct: unknown members, wrong types, out-of-range ports and
 * a document without any SIP server are refused with the key path in the message, so a
 * broken server gives a status line rather than undefined behaviour later.
 */
#ifndef EP_EPCONFIG_H
#define EP_EPCONFIG_H

#include <stddef.h>

#define EPC_HOST_MAX 253
#define EPC_LIST_MAX 32
#define EPC_DOC_MAX (256u << 10) /* largest configuration document accepted */

enum epc_transport { EPC_UDP = 0, EPC_TCP, EPC_TLS };
enum epc_connection { EPC_CONN_AUTO = 0, EPC_CONN_HTTPS, EPC_CONN_HTTP };
enum epc_detect { EPC_DETECT_SIP = 0, EPC_DETECT_TCM, EPC_DETECT_TEAMLINK };

struct epc_hostport {
	int set; /* 0: null in the document */
	char host[EPC_HOST_MAX + 1];
	unsigned port;
};

struct epconfig {
	char sip_uri[512];
	char display_name[256];
	char auth_user[256];
	char auth_password[256];
	enum epc_transport transport;
	struct epc_hostport pub;
	struct epc_hostport priv;
	unsigned register_expires;
	unsigned port_min, port_max;
	struct epc_hostport stun;
	int tl_enabled;
	enum epc_connection connection;
	enum epc_detect detect_method;
	char tcm[EPC_LIST_MAX][EPC_HOST_MAX + 1];
	size_t ntcm;
	char servers[EPC_LIST_MAX][EPC_HOST_MAX + 1];
	size_t nservers;
	struct epc_hostport proxy;
};

/* Parses a configuration document of len bytes into *c. Returns 0, or EINVAL with a message
 * naming the key path ("$.sip.transport: ...") in err. */
int epconfig_parse(struct epconfig *c, const char *buf, size_t len, char *err, size_t errlen)
        __attribute__((warn_unused_result));

const char *epc_transport_name(enum epc_transport t);
const char *epc_detect_name(enum epc_detect d);
const char *epc_connection_name(enum epc_connection c);

#endif
