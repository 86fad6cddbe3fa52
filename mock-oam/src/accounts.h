/* accounts.h - the accounts file: users, their passwords and endpoint configurations.
 *
 * File format (docs/protocol/oam.md):
 *   { "accounts": [ { "username": "alice", "password": "…", "config": { …endpoint
 *     configuration document… } }, … ] }
 * Every configuration document is validated at load time (oamcfg_validate), so a server
 * never hands out a document the schema in docs/protocol/oam-config.schema.json rejects.
 */
#ifndef MOCK_OAM_ACCOUNTS_H
#define MOCK_OAM_ACCOUNTS_H

#include <jansson.h>
#include <stddef.h>

#define ACCOUNTS_MAX 10000 /* accounts one file may hold */
#define ACCOUNT_NAME_MAX 64 /* longest username */
#define ACCOUNT_PASSWORD_MAX 128 /* longest password */

struct accounts;

/* Loads and validates path. On error returns an errno and a message naming the file and the
 * key path ("accounts.json: $.accounts[2].config.sip.transport: …") in err. */
int accounts_load(struct accounts **ap, const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void accounts_free(struct accounts *a);
size_t accounts_count(const struct accounts *a);

/* Returns the account's configuration document (borrowed) if username exists and password
 * matches (constant-time compare), else NULL. */
const json_t *accounts_check(const struct accounts *a, const char *username, const char *password);
/* The configuration document of username (borrowed), or NULL. */
const json_t *accounts_config(const struct accounts *a, const char *username);

/* Validates one endpoint configuration document. path prefixes messages ("$.config").
 * Returns 0 or EINVAL with the first problem in err. */
int oamcfg_validate(const json_t *cfg, const char *path, char *err, size_t errlen);

#endif
