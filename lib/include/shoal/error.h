/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Error codes and the single error path.
 *
 * Every Shoal function that can fail returns int: 0 on success, a negative
 * SHOAL_E* code on failure. The codes come from one X-macro list, which also
 * generates shoal_strerror() and shoal_err_name(). Every failure is reported
 * through shoal_error(), so one breakpoint catches them all, and the handler
 * is replaceable (tests install one that records instead of printing). */
#ifndef SHOAL_ERROR_H
#define SHOAL_ERROR_H

#include <shoal/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHOAL_ERRNO_MAP(X)                                                   \
    X(EINVAL,   -1, "invalid argument")                                      \
    X(ENOMEM,   -2, "out of memory")                                         \
    X(EIO,      -3, "input/output error")                                    \
    X(ECONFIG,  -4, "configuration error")                                   \
    X(EUSAGE,   -5, "command-line usage error")                              \
    X(EEXIST,   -6, "output file exists")                                    \
    X(ENOENT,   -7, "no such file or directory")                             \
    X(EMPI,     -8, "MPI error")                                             \
    X(EHDF5,    -9, "HDF5 error")                                            \
    X(ERANGE,  -10, "value out of range")                                    \
    X(ETASK,   -11, "task failed")                                           \
    X(ENOTFOUND, -12, "no such name")                                        \
    X(ETYPE,   -13, "wrong type")                                            \
    X(EINTERNAL, -14, "internal error")                                      \
    X(EINTR,   -15, "interrupted by a signal")                                \
    X(ECRASH,  -16, "the task crashed its process")

typedef enum {
    SHOAL_OK = 0,
#define SHOAL__ERR_ENUM(name, val, msg) SHOAL_##name = (val),
    SHOAL_ERRNO_MAP(SHOAL__ERR_ENUM)
#undef SHOAL__ERR_ENUM
    SHOAL_ERRNO_MIN = -17
} shoal_errno;

/* Human-readable description of a code; never NULL ("unknown error" for
 * codes outside the list; positive codes are user task codes). */
SHOAL_API const char *shoal_strerror(int code);
/* Symbolic name ("SHOAL_ECONFIG"); never NULL. */
SHOAL_API const char *shoal_err_name(int code);

/* Signature of an error handler: reason is a complete message. */
typedef void shoal_error_handler(const char *reason, const char *file,
                                 int line, int code);

/* Report an error through the current handler. The default handler prints
 * "shoal: [rank R: ]reason" on stderr (the rank comes from the log module).
 * Returns nothing: callers return the code themselves. */
SHOAL_API void shoal_error(const char *reason, const char *file, int line,
                           int code);
/* printf-style front end to shoal_error; returns code so a caller can write
 * `return shoal_errorf(SHOAL_EINVAL, __FILE__, __LINE__, "...")`. */
SHOAL_API int shoal_errorf(int code, const char *file, int line,
                           const char *fmt, ...) SHOAL_PRINTF(4, 5);
/* Install a handler (NULL restores the default); returns the previous one. */
SHOAL_API shoal_error_handler *shoal_set_error_handler(shoal_error_handler *h);

/* Report and return in one statement. */
#define SHOAL_ERROR(code, ...) shoal_errorf((code), __FILE__, __LINE__, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
