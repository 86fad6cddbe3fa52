/* util.h - small helpers every component needs. */
#ifndef ONSIGHT_UTIL_H
#define ONSIGHT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Reads a whole file of at most maxlen bytes into a new NUL-terminated buffer (caller frees).
 * Returns 0, an errno from open/read, or EFBIG when the file is larger than maxlen. */
int file_read(const char *path, size_t maxlen, char **bufp, size_t *lenp)
        __attribute__((warn_unused_result));
/* Reads a secret file and strips one trailing newline (the form `echo secret > f` makes). */
int file_read_secret(const char *path, char **bufp, size_t *lenp)
        __attribute__((warn_unused_result));
/* Copies with truncation, always NUL-terminates; returns strlen(src) (BSD strlcpy). */
size_t str_copy(char *dst, const char *src, size_t size);
/* Formats into err[0..len) when err is not NULL and len > 0: the error out-parameter of
 * loaders and parsers. */
void err_set(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Why a POSIX extended regular expression from a file is too costly for glibc's regcomp,
 * or NULL when it is not. regcomp recurses per nesting level and copies the expression
 * under a repetition ("a+" becomes "aa*", stacked operators double it each time): a hostile
 * file could overflow the stack or exhaust memory. Allowed: at most REGEX_MAX_LEN
 * characters, nesting depth 8, at most 2 intervals {n,m} with bounds up to 255 (16 on a
 * group), and no repetition operator right after another ("a++", ".*?", "a{2}*"). */
#define REGEX_MAX_LEN 256
const char *regex_too_costly(const char *re);
/* Ignores SIGPIPE for the process: every program that writes to sockets calls this. */
void util_ignore_sigpipe(void);

#endif
