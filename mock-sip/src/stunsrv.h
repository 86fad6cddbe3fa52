/* stunsrv.h - answering STUN Binding requests (RFC 5389 §10.1) on our UDP sockets.
 *
 * FINGERPRINT, when present, must verify (stun_decode). MESSAGE-INTEGRITY, when present, is
 * checked with the short-term password of the USERNAME (the SIP users' auth passwords):
 * unknown user or wrong HMAC gets 401, and a verified request gets a response carrying
 * MESSAGE-INTEGRITY with the same key. Each answered request is journaled as `stun`.
 */
#ifndef STUNSRV_H
#define STUNSRV_H

#include "onsight/evloop.h"
#include "onsight/journal.h"
#include "onsight/sock.h"

#include <stddef.h>
#include <stdint.h>

/* Returns the short-term password of username (NUL-terminated copy), or NULL. */
typedef const char *(stunsrv_key_h)(void *arg, const char *username);

void stunsrv_set_keys(stunsrv_key_h *h, void *arg);
/* 1 when buf was a STUN message (answered or discarded), 0 when it is something else. */
int stunsrv_answer(struct journal *j, int fd, const uint8_t *buf, size_t n,
                   const struct sock_addr *from, uint16_t port);
/* Reads and answers what is queued on fd (bounded). */
void stunsrv_drain(struct journal *j, int fd, uint16_t port);

struct stunsrv;
/* A STUN server socket on addr (port from addr; 0 = ephemeral). */
int stunsrv_open(struct stunsrv **sp, struct evloop *loop, struct journal *j,
                 const struct sock_addr *addr) __attribute__((warn_unused_result));
void stunsrv_close(struct stunsrv *s);
uint16_t stunsrv_port(const struct stunsrv *s);

#endif
