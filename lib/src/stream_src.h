/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stream_src.h (internal): where a stream's items come from. Rank 0 only;
 * no MPI, no HDF5. Two kinds of source:
 *
 *   a directory   files whose names match a glob pattern (fnmatch with
 *                 FNM_PERIOD: hidden names such as ".frame.h5.part" never
 *                 match *), each an item once it is complete: renamed into
 *                 place (the default), or, in marker mode, once a file of
 *                 the same name plus the marker suffix exists beside it.
 *                 Watched with inotify where it works; polled (readdir)
 *                 every poll_seconds otherwise, or when asked to, or after
 *                 the kernel's event queue overflowed (then one full scan).
 *                 The first poll returns the files already there, sorted
 *                 by name; later ones, new files in the order they were
 *                 seen (sorted by name within one scan). A name is returned
 *                 once while it stays in the directory; a file removed and
 *                 created again is a new item. Memory: the names currently
 *                 in the directory that match.
 *   lines         lines of standard input ("-") or of a named pipe or a
 *                 regular file, read without blocking. Blank lines and lines
 *                 starting with '#' are skipped; a trailing "\r" is dropped.
 *                 A line longer than SHOAL__SRC_TEXT - 1 bytes becomes an
 *                 item with too_long set (its first bytes kept). End of
 *                 input: read() returns 0 on a regular file or a pipe; a
 *                 named pipe is at its end once a writer has connected and
 *                 every writer has closed it (before any writer, it waits).
 *
 * Back-pressure: a poll returns at most max items; whatever is not taken
 * stays in the directory or in the pipe (whose writer then blocks), so the
 * source holds a bounded amount in memory. */
#ifndef SHOAL_STREAM_SRC_H
#define SHOAL_STREAM_SRC_H

#include <stddef.h>
#include <stdint.h>

#define SHOAL__SRC_TEXT 4096 /* bytes of an item's text, its NUL included */

typedef struct shoal__src shoal__src;

typedef struct {
    char text[SHOAL__SRC_TEXT]; /* directory: dir/name as opened; lines: the line */
    uint64_t size;              /* directory: st_size when seen; lines: 0 */
    int64_t mtime_ns;           /* directory: st_mtim, ns since 1970; lines: 0 */
    int too_long;               /* lines: the line did not fit (text holds its start) */
} shoal__src_item;

/* A directory source. dir must exist and be a readable directory (else
 * SHOAL_ENOENT or SHOAL_EIO with a message naming it, reported through
 * shoal_error); pattern a glob for the names (no '/'); marker NULL for
 * rename mode, or a suffix such as ".done"; poll_seconds 0 for inotify
 * (falling back to polling every second where inotify cannot be used),
 * > 0 to poll at that interval. Returns 0 or a negative SHOAL_E* code. */
int shoal__src_open_dir(const char *dir, const char *pattern, const char *marker,
                        double poll_seconds, shoal__src **out);

/* A line source: "-" for standard input, or a path (a named pipe or a
 * regular file; SHOAL_ENOENT with a message if it cannot be opened). */
int shoal__src_open_lines(const char *path, shoal__src **out);

/* Take up to max new items without blocking (now: shoal_now(), for the
 * polling interval). Returns how many (0: none now), or SHOAL__SRC_END
 * once a line source has reached its end and every line was returned, or
 * a negative SHOAL_E* code on an error (reported). A directory source
 * never ends by itself. */
#define SHOAL__SRC_END (-1000)
int shoal__src_poll(shoal__src *s, double now, shoal__src_item *items, size_t max);

/* A file descriptor that becomes readable when new items may be there (the
 * inotify or line fd), or -1 when polling: for a caller that wants to wait
 * in poll(2). */
int shoal__src_fd(const shoal__src *s);

/* 1 for inotify, 0 for polling (directory sources); -1 for lines. */
int shoal__src_inotify(const shoal__src *s);

void shoal__src_close(shoal__src *s);

#endif
