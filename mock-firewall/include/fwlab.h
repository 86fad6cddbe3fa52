/* fwlab.h - the Onsight network lab (mock-firewall) as a library.
 *
 * A lab is five network namespaces named <prefix>-ep|fw|lan|net|out, joined by veth links,
 * with documentation-range addresses only (docs/lab.md has the full address plan):
 *
 *   ep (endpoint, eth0) ── lan (bridge: proxy .3, vcs-control .5, DNS .53) ── fw ── net
 *                                                                                    │
 *   ep (after migrate outside: eth0's cable is re-plugged into out) ───────── out ───┘
 *
 *   net   203.0.113.0/24: every cloud host name has one address; public DNS .53
 *   lan   198.51.100.0/24: fw .1 (gateway), proxy .3 (tinyproxy :3128), vcs-control .5,
 *         LAN DNS .53, endpoint .10
 *   out   192.0.2.0/24: router .1, endpoint .10 when outside
 *
 * `fw` runs the profile's nftables ruleset (forward filter + masquerade of the LAN to
 * 203.0.113.2), applied atomically with `nft -j -f`. No lab namespace has a route or a
 * link to the host's own network.
 *
 * Every lab records what it created, and which process owns it, in
 * /run/onsight-lab/<prefix>.json (written step by step during fwlab_up, so a crash
 * mid-way is still collectable by fwlab_gc).
 *
 * Errors: functions return 0 or a positive errno; those with err/errlen also write a
 * message a person can act on (profile errors name the file, the rule and the problem).
 * Not thread-safe: one thread drives one lab.
 */
#ifndef FWLAB_H
#define FWLAB_H

#include <stddef.h>
#include <sys/types.h>

#define FWLAB_PREFIX_MAX 12 /* longest prefix: interface-safe, [a-z0-9] and '-' */
#define FWLAB_STATE_DIR "/run/onsight-lab"

struct fwlab; /* opaque */

/* Creates a lab with the firewall profile profile_path (a path, or a short name looked up in
 * mock-firewall/profiles/: "open", "s1", "s2-inside", "s3", "s4", "https-only", "http-only",
 * "customer-*"). prefix NULL means "osl<pid>". The calling process becomes the lab's owner.
 * On success the endpoint is inside (on the LAN), DNS (net + lan) and the web proxy run, and
 * *lp is set. On failure everything created so far is removed and *lp is untouched. */
int fwlab_up(struct fwlab **lp, const char *profile_path, const char *prefix, char *err,
             size_t errlen) __attribute__((warn_unused_result));

/* Kills every process the lab started or that runs in its namespaces (TERM, then KILL),
 * deletes its namespaces (and so its veths), /etc/netns/<ns>/ and its state; frees l.
 * NULL is a no-op. Returns 0 or the first errno met (teardown continues past errors). */
int fwlab_down(struct fwlab *l);

/* Replaces the running ruleset, the proxy allow-list and the impairments with those of
 * profile_path, atomically for the ruleset (the old one stays if the new one fails). */
int fwlab_apply(struct fwlab *l, const char *profile_path, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Moves the endpoint: "outside" unplugs ep's eth0 from the LAN and plugs it into `out`
 * (address 192.0.2.10/24, default route via 192.0.2.1, DNS 203.0.113.53); "inside" moves it
 * back (198.51.100.10/24 via .1, DNS 198.51.100.53). eth0 keeps its name and ifindex; a
 * netlink watcher sees carrier loss, address removal, then the new address and route. */
int fwlab_migrate(struct fwlab *l, const char *where) __attribute__((warn_unused_result));

const char *fwlab_prefix(const struct fwlab *l);
/* "/run/netns/<prefix>-<role>" of role ep|fw|lan|net|out, for setns() or `ip netns exec`;
 * NULL for an unknown role. */
const char *fwlab_netns(const struct fwlab *l, const char *role);
/* The address of a lab host name (e.g. "sip.librestream.com"), or NULL. */
const char *fwlab_host_addr(const struct fwlab *l, const char *host);

/* Spawns argv (argv[0] looked up in PATH) inside role's namespace, with
 * /etc/netns/<prefix>-<role>/resolv.conf as its /etc/resolv.conf (as `ip netns exec` does),
 * stdin /dev/null, stdout/stderr to the given fds (-1 = /dev/null). *pidp gets the pid.
 * The lab records the pid and kills it (TERM, then KILL) on down/gc; the caller may reap it
 * with waitpid() before that. */
int fwlab_spawn(struct fwlab *l, const char *role, char *const argv[], int out_fd, int err_fd,
                pid_t *pidp) __attribute__((warn_unused_result));

/* Removes every lab whose owner process is dead (or whose pid was reused). report gets one
 * line per lab removed. Returns 0 or the first errno met. */
int fwlab_gc(char *report, size_t len);

/* 0 if network namespaces can be created here (root, /run/netns writable, unshare works,
 * ip/nft/dnsmasq/tinyproxy present); else an errno and the reason in why. */
int fwlab_available(char *why, size_t len);

/* --- beyond the contract: used by the mock-firewall CLI and tests --- */

/* Attaches to a running lab by prefix (NULL: the only lab in FWLAB_STATE_DIR; ENOENT if none,
 * EEXIST if several). The caller does not become the owner. */
int fwlab_attach(struct fwlab **lp, const char *prefix, char *err, size_t errlen)
        __attribute__((warn_unused_result));
/* Frees l without tearing anything down. NULL is a no-op. */
void fwlab_detach(struct fwlab *l);
/* Makes pid the lab's owner: gc keeps the lab while it lives. down never signals it. */
int fwlab_set_owner(struct fwlab *l, pid_t pid);
/* "inside" or "outside". */
const char *fwlab_where(const struct fwlab *l);
/* Path of the state file. */
const char *fwlab_state_path(const struct fwlab *l);

#endif
