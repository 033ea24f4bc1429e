/* SPDX-License-Identifier: GPL-3.0-or-later */
/* h5util.h (internal): HDF5 helpers shared by the store and the reader:
 * error translation and root/group/dataset attributes. */
#ifndef SHOAL_H5UTIL_H
#define SHOAL_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* Silence HDF5's automatic error printing (we translate errors). */
void shoal__h5_quiet(void);
/* The most specific message on HDF5's current error stack, or "". */
void shoal__h5_message(char *buf, size_t n);

/* Create or replace a scalar attribute of loc. In a parallel file these are
 * collective: every rank passes the same value. Return 0 or SHOAL_EHDF5. */
int shoal__attr_str(hid_t loc, const char *name, const char *value);
int shoal__attr_u64(hid_t loc, const char *name, uint64_t v);
int shoal__attr_double(hid_t loc, const char *name, double v);
int shoal__attr_i64(hid_t loc, const char *name, int64_t v);
/* Collective on a parallel file: a quantity's "units" and "doc" attributes
 * of dataset d; a NULL value writes no attribute. */
int shoal__attr_meta(hid_t d, const char *unit, const char *doc);
/* A fixed-length string type of len bytes in UTF-8, padded with pad, for
 * text users give or tasks produce (the caller closes it). Readers must use
 * the file's character set: HDF5 converts no strings between ASCII and
 * UTF-8. */
hid_t shoal__h5_text_type(size_t len, H5T_str_t pad);
/* Collective: the "_Encoding" = "utf-8" attribute of a dataset of such
 * text, by which netCDF readers (xarray) decode it to str. */
int shoal__attr_utf8(hid_t d);
/* A variable-length string attribute as a malloc'd copy; NULL if absent. */
char *shoal__attr_read_str(hid_t loc, const char *name);
/* Now as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void shoal__iso_time(char *buf, size_t n);

#endif
