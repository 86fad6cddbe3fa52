/* lab_int.h - the lab's private structure, shared by lab.c and status.c. */
#ifndef FWLAB_LAB_INT_H
#define FWLAB_LAB_INT_H

#include "fwlab.h"
#include "hosts.h"
#include "profile.h"

#include <jansson.h>

enum lab_role_idx { ROLE_EP, ROLE_FW, ROLE_LAN, ROLE_NET, ROLE_OUT, ROLE_COUNT };
extern const char *const lab_roles[ROLE_COUNT];

struct fwlab {
	char prefix[FWLAB_PREFIX_MAX + 1];
	char domain[HOSTS_NAME_MAX];
	char ns[ROLE_COUNT][FWLAB_PREFIX_MAX + 8];
	char nspath[ROLE_COUNT][FWLAB_PREFIX_MAX + 24];
	char dir[FWLAB_PREFIX_MAX + 32];
	char state[FWLAB_PREFIX_MAX + 40];
	json_t *st; /* the state document, as saved */
	struct profile *prof; /* the profile in force (NULL if unreadable after attach) */
	struct lab_host hosts[HOSTS_MAX];
	size_t nhosts;
	int outside;
	int owner;
};

int lab_role(const char *role);
/* Like fwlab_set_owner, but pid is the CLI's keeper process (fwlab-<prefix>), which down
 * stops. */
int lab_set_keeper(struct fwlab *l, pid_t pid);
int lab_save(struct fwlab *l);
int lab_record_pid(struct fwlab *l, pid_t pid, const char *what);
/* 1 if tc netem works on this kernel (tried once in a throwaway namespace). */
int lab_netem_available(void);
/* ENOTSUP with a message if the profile asks for something this kernel cannot do. */
int lab_check_profile_kernel(const struct profile *p, char *err, size_t errlen);

#endif
