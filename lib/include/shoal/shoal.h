/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shoal: spread many tasks over MPI ranks, store every result in one
 * parallel HDF5 file. Umbrella header. */
#ifndef SHOAL_SHOAL_H
#define SHOAL_SHOAL_H

#include <shoal/version.h>
#include <shoal/export.h>
#include <shoal/error.h>
#include <shoal/log.h>
#include <shoal/types.h>
#include <shoal/clock.h>
#include <shoal/config.h>
#include <shoal/rng.h>
#include <shoal/pool.h>
#include <shoal/results.h>
#include <shoal/app.h>
#include <shoal/scan.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
