/* SPDX-License-Identifier: GPL-3.0-or-later */
/* failures.h (internal): the /failures table, one codec for the writer (the
 * store) and the reader (results.c).
 *
 * /failures holds one group of equally long 1-d datasets, one per column of
 * shoal_store_failure: task (int64, -1 marks an unused slot), rank (int32),
 * error (int32), attempts (int32), message (fixed SHOAL_FAILURE_MSG-byte
 * strings). Each rank owns SHOAL_FAILURE_SLOTS slots after the entries kept
 * from earlier runs, and writes them with the rows of its ranges, so the
 * messages survive a kill. The column list exists once, here. */
#ifndef SHOAL_FAILURES_H
#define SHOAL_FAILURES_H

#include <shoal/results.h>

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* Collective: (re)create /failures with n empty slots. 0 or SHOAL_EHDF5. */
int shoal__failures_create(hid_t file, uint64_t n);

/* Write entries [0, n) of log into slots [off, off + n). With active = 0 the
 * rank opens the datasets but writes an empty selection (for collective
 * transfers in which only one rank has data). 0 or SHOAL_EHDF5/ENOMEM. */
int shoal__failures_write(hid_t file, hid_t dxpl, const shoal_store_failure *log,
                          size_t n, uint64_t off, int active);

/* Every used slot of /failures, in slot order, as a malloc'd array (*out is
 * NULL when there are none). A file without /failures has none. Returns 0 or
 * a negative code (reported). */
int shoal__failures_read(hid_t file, const char *path, shoal_store_failure **out,
                         size_t *n);

#endif
