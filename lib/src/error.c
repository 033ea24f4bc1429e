/* SPDX-License-Identifier: GPL-3.0-or-later */
/* error.c: the single error path.
 *
 * Every error in the library goes through shoal_error(); set a breakpoint
 * there to catch them all. The handler is process-wide and replaceable: the
 * driver silences ranks other than 0 while all ranks check the same config,
 * and tests install a recording handler. */
#include <shoal/error.h>
#include <shoal/log.h>

#include <stdarg.h>
#include <stdio.h>

static shoal_error_handler *current_handler = NULL;

const char *shoal_strerror(int code)
{
    switch (code) {
    case SHOAL_OK:
        return "success";
#define SHOAL__ERR_STR(name, val, msg) \
    case SHOAL_##name:                 \
        return msg;
        SHOAL_ERRNO_MAP(SHOAL__ERR_STR)
#undef SHOAL__ERR_STR
    default:
        return code > 0 ? "task-defined error" : "unknown error";
    }
}

const char *shoal_err_name(int code)
{
    switch (code) {
    case SHOAL_OK:
        return "SHOAL_OK";
#define SHOAL__ERR_NAME(name, val, msg) \
    case SHOAL_##name:                  \
        return "SHOAL_" #name;
        SHOAL_ERRNO_MAP(SHOAL__ERR_NAME)
#undef SHOAL__ERR_NAME
    default:
        return "SHOAL_UNKNOWN";
    }
}

void shoal_error(const char *reason, const char *file, int line, int code)
{
    if (current_handler) {
        current_handler(reason, file, line, code);
        return;
    }
    /* Messages are written for users: where in *their* input, not in ours.
     * Our source location is shown at debug verbosity only. */
    if (shoal_log_get_level() >= SHOAL_LOG_DEBUG)
        shoal_log_error("%s [%s, %s:%d]", reason, shoal_err_name(code), file,
                        line);
    else
        shoal_log_error("%s", reason);
}

int shoal_errorf(int code, const char *file, int line, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    shoal_error(buf, file, line, code);
    return code;
}

shoal_error_handler *shoal_set_error_handler(shoal_error_handler *h)
{
    shoal_error_handler *prev = current_handler;
    current_handler = h;
    return prev;
}
