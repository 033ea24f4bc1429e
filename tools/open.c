/* SPDX-License-Identifier: GPL-3.0-or-later */
/* open.c: opening a result file for the `shoal` command, and the helpers
 * the subcommands share (messages, attributes, columns).
 *
 * A FILE is looked at before HDF5 sees it, so that each way of being wrong
 * gets its own message: missing, a directory or other non-regular file
 * (opening a FIFO would block), no HDF5 signature, cut short (HDF5 says
 * "truncated"), an HDF5 file that is not a Shoal result file. The checks
 * only read; the file is opened read-only by the library's reader. */
#include <shoal/error.h>

#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char lib_message[2048];

int tool_fail(int code, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "shoal: %s\n", buf);
    return code;
}

static void capture(const char *reason, const char *file, int line, int code)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(lib_message, sizeof lib_message, "%s", reason);
}

void tool_capture_lib_messages(void) { shoal_set_error_handler(capture); }
const char *tool_lib_message(void) { return lib_message; }
void tool_lib_message_clear(void) { lib_message[0] = '\0'; }

int tool_read_failed(const char *path, const char *what)
{
    return tool_fail(TOOL_IO, "cannot read %s of '%s': %s; the file may be damaged "
                              "(h5dump -H '%s' shows what HDF5 sees)",
                     what, path, lib_message[0] ? lib_message : "HDF5 error", path);
}

/* Does the file at fd (size bytes) carry HDF5's signature where HDF5 looks
 * for it: at 0, 512, 1024, 2048 ... bytes? */
static int has_signature(int fd, off_t size)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    for (off_t at = 0; at + 8 <= size; at = at ? 2 * at : 512) {
        unsigned char buf[8];
        if (pread(fd, buf, 8, at) == 8 && !memcmp(buf, sig, 8))
            return 1;
    }
    return 0;
}

int tool_open(const char *path, shoal_results **r)
{
    *r = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return tool_fail(TOOL_USAGE, "'%s' does not exist; give the path of a Shoal "
                                         "result file (the run's [run] output or -o)", path);
        return tool_fail(TOOL_IO, "cannot look at '%s': %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        return tool_fail(TOOL_USAGE, "'%s' is a directory; give the result file in it, "
                                     "e.g. %s/results.h5", path, path);
    if (!S_ISREG(st.st_mode))
        return tool_fail(TOOL_USAGE, "'%s' is not a regular file (a FIFO, device or "
                                     "socket); give a Shoal result file", path);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return tool_fail(TOOL_IO, "cannot read '%s': %s", path, strerror(errno));
    int hdf5 = has_signature(fd, st.st_size);
    close(fd);
    if (!hdf5)
        return tool_fail(TOOL_USAGE, "'%s' is not an HDF5 file (%s); give a Shoal "
                                     "result file", path,
                         st.st_size == 0 ? "it is empty" : "no HDF5 signature");
    tool_lib_message_clear();
    int rc = shoal_results_open(path, r);
    if (rc == SHOAL_ETYPE)
        return tool_fail(TOOL_USAGE, "'%s' is an HDF5 file but not a Shoal result file "
                                     "(no ntasks attribute); read it with h5dump or h5py",
                         path);
    if (rc < 0) {
        if (strstr(lib_message, "truncated"))
            return tool_fail(TOOL_IO, "'%s' is truncated (%lld bytes, shorter than HDF5 "
                                      "expects): a copy or transfer that did not finish, "
                                      "or a full disk; copy it again from the original",
                             path, (long long)st.st_size);
        return tool_fail(TOOL_IO, "cannot open '%s': %s", path,
                         lib_message[0] ? lib_message : "HDF5 error");
    }
    shoal_results_column c;
    if (shoal_results_column_info(*r, "tasks/status", &c) != 0 ||
        c.rows != shoal_results_ntasks(*r) || c.type != SHOAL_INT64) {
        shoal_results_close(*r);
        *r = NULL;
        return tool_fail(TOOL_USAGE, "'%s' is not a Shoal result file: it has no "
                                     "/tasks/status of %llu rows, one per task",
                         path, (unsigned long long)c.rows);
    }
    return TOOL_OK;
}

char *tool_attr(const shoal_results *r, const char *name)
{
    size_t cap = 1 << 20; /* the config text is the largest: 64 KiB lines, few */
    for (;;) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        if (shoal_results_attr_string(r, name, buf, cap) < 0) {
            buf[0] = '\0';
            return buf;
        }
        if (strlen(buf) + 1 < cap || cap >= (size_t)1 << 28)
            return buf;
        free(buf);
        cap *= 4;
    }
}

void tool_number(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "NaN");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "Inf" : "-Inf");
    else
        snprintf(buf, n, "%.10g", v);
}
