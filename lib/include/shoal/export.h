/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Symbol visibility: the library is built with hidden symbols; only
 * declarations marked SHOAL_API are exported. */
#ifndef SHOAL_EXPORT_H
#define SHOAL_EXPORT_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define SHOAL_API __attribute__((visibility("default")))
#else
#define SHOAL_API
#endif
#if defined(__GNUC__)
#define SHOAL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SHOAL_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
}
#endif

#endif
