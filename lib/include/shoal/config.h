/* SPDX-License-Identifier: GPL-3.0-or-later */
/* INI configuration with command-line overrides and located errors.
 *
 * A shoal_config holds the parsed text of one INI file (read with inih) plus
 * `--set section.key=value` overrides. Every entry remembers where it came
 * from (file:line, or the --set option), so typed getters can report
 * "mc_pi.ini:7: [run] tasks = 'abc' is not an integer". Getters mark
 * entries as used; shoal_config_check_unused() then reports keys nobody
 * asked for (typos) with the known keys as a hint. Values may name
 * environment variables: ${NAME}, ${NAME:-default} (used when NAME is unset
 * or empty), and $$ for a literal '$'; any other '$' is kept as written. An
 * unset variable without a default is an error naming file:line. Out of memory is
 * reported like any other error (SHOAL_ENOMEM and a message).
 *
 * The config owns all its strings. Not thread-safe; one per run. */
#ifndef SHOAL_CONFIG_H
#define SHOAL_CONFIG_H

#include <shoal/export.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct shoal_config shoal_config;

/* Parse INI text. `source` names the text in messages (usually the file
 * path). On success *out owns a new config; on failure *out is NULL, a
 * message with source:line was reported, and SHOAL_ECONFIG is returned. */
SHOAL_API int shoal_config_parse(const char *text, size_t len,
                                 const char *source, shoal_config **out);
/* shoal_config_parse, with environment variables taken from env instead of
 * the process environment: env holds envlen bytes of "NAME=value\0"
 * entries, as shoal_config_env_capture makes them; a name it lacks is
 * unset. NULL env: the process environment. The config keeps a copy, for
 * later shoal_config_set calls. */
SHOAL_API int shoal_config_parse_env(const char *text, size_t len,
                                     const char *source, const char *env,
                                     size_t envlen, shoal_config **out);
/* The variables that config text (len bytes) and the strings in extra
 * (nextra of them, NULL ones skipped: --set options, say) refer to as
 * ${NAME...} and that are set in this process, as "NAME=value\0" entries
 * in *block (malloc'd, *blen bytes; the caller frees). Under MPI rank 0
 * captures and broadcasts, and every rank parses with the same block. */
SHOAL_API int shoal_config_env_capture(const char *text, size_t len,
                                       const char *const *extra, size_t nextra,
                                       char **block, size_t *blen);
/* Read a whole file into a NUL-terminated buffer (caller frees). Only
 * regular files: a directory, FIFO, device or socket is refused at once
 * (SHOAL_ECONFIG, saying what it is; a FIFO without a writer used to block
 * the run), and so are files over 64 MiB and empty ones. */
SHOAL_API int shoal_config_read_file(const char *path, char **text,
                                     size_t *len);
SHOAL_API void shoal_config_free(shoal_config *cfg);

/* Apply one "section.key=value" override. An override of a key that the
 * file has replaces its value; otherwise it adds the key. */
SHOAL_API int shoal_config_set(shoal_config *cfg, const char *assignment);

/* The original text (for provenance), its source name, and the applied
 * overrides as "section.key=value" lines. */
SHOAL_API const char *shoal_config_text(const shoal_config *cfg);
SHOAL_API const char *shoal_config_source(const shoal_config *cfg);
SHOAL_API const char *shoal_config_overrides(const shoal_config *cfg);
/* The environment variables the values used, in the order first used, as
 * "NAME=value" lines ("NAME" alone: unset, its default used). */
SHOAL_API const char *shoal_config_env(const shoal_config *cfg);

/* Does the config have this key / this section at all? */
SHOAL_API int shoal_config_has(const shoal_config *cfg, const char *section,
                               const char *key);
SHOAL_API int shoal_config_has_section(const shoal_config *cfg,
                                       const char *section);

/* Typed getters. If the key is absent, *out = dflt and 0 is returned, unless
 * `required` is set, in which case the error names the file and section.
 * A value of the wrong type is an error naming file:line. Each getter marks
 * the entry used. Bounds are inclusive. */
SHOAL_API int shoal_config_get_long(shoal_config *cfg, const char *section,
                                    const char *key, int required, long dflt,
                                    long min, long max, long *out);
SHOAL_API int shoal_config_get_u64(shoal_config *cfg, const char *section,
                                   const char *key, int required,
                                   uint64_t dflt, uint64_t min, uint64_t max,
                                   uint64_t *out);
SHOAL_API int shoal_config_get_double(shoal_config *cfg, const char *section,
                                      const char *key, int required,
                                      double dflt, double min, double max,
                                      double *out);
SHOAL_API int shoal_config_get_string(shoal_config *cfg, const char *section,
                                      const char *key, int required,
                                      const char *dflt, const char **out);
SHOAL_API int shoal_config_get_bool(shoal_config *cfg, const char *section,
                                    const char *key, int required, int dflt,
                                    int *out);

/* Entries of one section in file order (overrides that add keys come last):
 * the number of them, and entry i. key, value and where stay valid while the
 * config lives. shoal_config_section_entry marks every entry of the section
 * used: a caller that walks a section judges its keys itself, and may stop
 * at the first bad one without the rest being called unknown. */
SHOAL_API size_t shoal_config_section_size(const shoal_config *cfg,
                                           const char *section);
SHOAL_API int shoal_config_section_entry(shoal_config *cfg,
                                         const char *section, size_t i,
                                         const char **key, const char **value,
                                         const char **where);

/* Report every entry of a section in `sections` (NULL-terminated) that was
 * never read (naming the keys that were asked for as a hint), and every
 * section not in `sections`: the first 5 of each one by one, then one line
 * "... and N more unknown keys" (sections). Returns SHOAL_ECONFIG if any
 * were found. */
SHOAL_API int shoal_config_check_unused(const shoal_config *cfg,
                                        const char *const *sections);

/* "file:line" (or "--set section.key") for messages; a static buffer
 * per call site is not needed: the string lives as long as the config.
 * NULL if the key is absent. */
SHOAL_API const char *shoal_config_where(const shoal_config *cfg,
                                         const char *section, const char *key);

#ifdef __cplusplus
}
#endif

#endif
