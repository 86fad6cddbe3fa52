/* scen_int.h - what the modules of one scenario run share (scen.c, watch.c, services.c,
 * capset.c, endpoint.c, steps.c, judge.c, gc.c): the scenario's state and their functions.
 * Everything runs on the scenario's one thread. */
#ifndef CONFORM_SCEN_INT_H
#define CONFORM_SCEN_INT_H

#include "conform/analysis.h"
#include "report.h"
#include "scen.h"

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define MAX_SVC 8
#define MAX_CAPS 4
#define MAX_TAILS 8
#define LINE_MAX_LEN 16384
#define LISTEN_WAIT_MS 8000
#define SVC_STOP_MS 3000
#define DEFAULT_DEADLINE_S 60
#define PEER_URI "sip:peer@librestream.com"

struct svc {
	char name[32]; /* "mock-sip", "mock-sip-private", ... */
	pid_t pid;
	int exited, status;
	char journal[PATH_MAX];
	char ctl[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct tail {
	char path[PATH_MAX];
	char inst[32]; /* the service instance writing it */
	off_t off;
	char part[LINE_MAX_LEN];
	size_t plen;
};

struct scen {
	const struct scen_spec *sp;
	struct fwlab *lab;
	char dir[PATH_MAX];
	char rundir[64];
	struct svc svc[MAX_SVC];
	size_t nsvc;
	struct capture *cap[MAX_CAPS];
	size_t ncap;
	pid_t ep_pid;
	int ep_exited, ep_status, ep_out, ep_logfd;
	int stop_sent;
	char line[LINE_MAX_LEN];
	size_t linelen;
	int ino;
	struct tail tails[MAX_TAILS];
	size_t ntails;
	json_t *counts; /* event name -> times seen */
	int ready;
	char sip_user[128];
	char last_reg[32]; /* instance that saw the latest successful REGISTER of our user */
	/* "journal:registered" count at the last baseline (scenario start, migrate, apply): a
	 * `wait registered` is satisfied by a registration after it, even one that arrived
	 * before the step began. */
	json_int_t reg_base;
	/* The first step that failed (the most severe kind wins): the scenario cannot pass. */
	char pverdict[16], pstep[160], preason[512];
	json_t *account;
	json_t *steps;
	uint64_t t0, deadline;
	char hverdict[16], hreason[768];
	const char *cur_step;
	int in_teardown;
};

/* A scenario's scratch folder: RUNDIR_DIR/RUNDIR_NAME followed by its lab prefix. */
#define RUNDIR_DIR "/tmp"
#define RUNDIR_NAME "onsight-conform."

/* The SIGCHLD self-pipe (read end) and the interruption flag (scen.c). */
extern int scen_sig_r;
extern volatile sig_atomic_t scen_interrupted;

/* ---- scen.c: helpers ---- */
/* snprintf for paths: ENAMETOOLONG on truncation (the caller's later open() fails). */
int scen_pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t scen_now_ms(void);
/* Seconds since the endpoint started (0 before). */
double scen_since_s(const struct scen *s);
/* Records the run-level verdict; the most severe one wins, the first reason of it stays. */
void scen_harness(struct scen *s, const char *verdict, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Appends {"t","step","outcome"} to the scenario's steps. */
void scen_step_log(struct scen *s, const char *step, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void scen_count(struct scen *s, const char *ev);
json_int_t scen_counted(const struct scen *s, const char *ev);
const char *scen_status_str(int st, char *buf, size_t len);
int scen_write_text(const char *path, const char *text, mode_t mode);

/* ---- watch.c: observing ---- */
/* Collects exited children; a death not asked for is a harness verdict. */
void scen_reap(struct scen *s);
/* Reads what the services appended to their journals since the last call. */
void scen_read_tails(struct scen *s);
/* One wait of at most ms for anything to happen, then processes what did. */
void scen_pump(struct scen *s, int ms);
int scen_must_abort(const struct scen *s);
/* Waits until pred(s, arg) holds, for at most ms; 1 if it held. */
int scen_wait_for(struct scen *s, int (*pred)(struct scen *, const void *), const void *arg,
                  uint64_t ms);
int scen_pred_count_above(struct scen *s, const void *arg); /* arg: ["event", above] */
int scen_pred_ready(struct scen *s, const void *arg);
int scen_pred_ep_exited(struct scen *s, const void *arg);

/* ---- services.c: the mock cloud ---- */
/* The address of a host of the lab plan (mock-firewall's host table); NULL if unknown. */
const char *scen_plan_addr(const char *name);
int scen_open_log(const struct scen *s, const char *name);
int scen_services_start(struct scen *s, const char *accounts);
void scen_services_stop(struct scen *s);
/* Sends one control line to a mock-sip instance; the JSON answer (new reference) or NULL. */
json_t *scen_sip_control(const struct svc *v, const char *line, char *err, size_t errlen);
struct svc *scen_svc_by_name(struct scen *s, const char *name);

/* ---- capset.c: captures ---- */
int scen_captures_start(struct scen *s);
/* Stops every capture, converts it to pcapng with the key logs, lists it in artifacts. */
void scen_captures_stop(struct scen *s, json_t *artifacts);

/* ---- endpoint.c ---- */
const char *scen_cfg_str(const json_t *acc, const char *a, const char *b, const char *c);
int scen_endpoint_start(struct scen *s);
void scen_endpoint_stop(struct scen *s, const char *why);

/* ---- steps.c ---- */
void scen_steps_run(struct scen *s);
/* One `wait` step (step_name as in the result's steps); 1 if what it waited for came. */
int scen_step_wait(struct scen *s, const struct conform_step *st, const char *step_name);
/* Records that a step the scenario depends on failed: verdict V_FAIL (the endpoint did not do
 * it) or V_ERROR (the lab or harness failed); the most severe, then the first, is kept. */
void scen_precondition(struct scen *s, const char *step, const char *verdict, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- judge.c ---- */
/* Judges the scenario over its captures and journals; returns the checks (new reference). */
json_t *scen_judge(struct scen *s, const json_t *artifacts, int with_data);
const char *scen_verdict(const struct scen *s, const json_t *checks);

/* ---- gc.c ---- */
void scen_rm_tree(const char *dir);

#endif
