/* nftgen.h - compiles a profile into nftables JSON batches (libnftables-json(5)), applied
 * with `nft -j -f FILE` inside a namespace: one batch is all-or-nothing.
 *
 * fw gets table inet fwlab (forward filter + LAN masquerade) and, if the profile impairs the
 * fw-lan or fw-wan link, table netdev fwlab_impair. out gets table inet fwlab (forward
 * filter of the outside endpoint network) only if the profile has an "outside" section, and
 * fwlab_impair if it impairs the out link; ep gets only fwlab_impair. Every batch first
 * deletes the table it replaces, so applying a batch swaps rules atomically.
 */
#ifndef FWLAB_NFTGEN_H
#define FWLAB_NFTGEN_H

#include "profile.h"

#include <jansson.h>

#define FW_DEV_LAN "lan0" /* fw's LAN-side interface */
#define FW_DEV_WAN "wan0" /* fw's internet-side interface */
#define OUT_DEV_NET "net0" /* out's internet-side interface */
#define NFT_TABLE "fwlab"
#define NFT_IMPAIR_TABLE "fwlab_impair"
#define NFT_LOG_PREFIX "fwlab-drop "
#define NFT_OUT_LOG_PREFIX "fwlab-out-drop "
#define NFT_COMMENT_MAX 127 /* bytes nft keeps of a rule comment */

/* The whole batch for the fw namespace (new reference), or NULL on ENOMEM. */
json_t *nftgen_fw(const struct profile *p);
/* The whole batch for the out namespace (new reference), or NULL on ENOMEM: the outside
 * network's filter (removed when the profile has no "outside" section) and the out link's
 * loss. */
json_t *nftgen_out(const struct profile *p);
/* The impairment batch for role "ep" or "out" (new reference): removes the table, and
 * recreates it if the profile impairs that role's link. */
json_t *nftgen_impair(const struct profile *p, const char *role);
/* 1 if the profile puts loss on a link whose nft table lives in role's namespace. */
int nftgen_has_impair(const struct profile *p, const char *role);

#endif
