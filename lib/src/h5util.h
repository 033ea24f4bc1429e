/* h5util.h (internal): HDF5 helpers shared by the store and the reader. */
#ifndef SHOAL_H5UTIL_H
#define SHOAL_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

/* Silence HDF5's automatic error printing (we translate errors). */
void shoal__h5_quiet(void);
/* The most specific message on HDF5's current error stack, or "". */
void shoal__h5_message(char *buf, size_t n);

#endif
