/* SPDX-License-Identifier: GPL-3.0-or-later */
/* shoal.c: the `shoal` command -- look into a Shoal result file, finished
 * or being written, without MPI.
 *
 *   shoal status FILE      state, counts, rate and ETA, ranks, segments
 *   shoal failures FILE    the failed tasks: parameters, code, message
 *   shoal config FILE      the config that made the file, ready to rerun
 *   shoal export FILE      per-task columns as CSV or TSV
 *
 * One table names the subcommands with their options and help; the parser
 * and every help text read it. Exit status: 0 done, 2 usage or a FILE that
 * is missing or not a Shoal result file, 4 a file that cannot be read
 * (damaged, truncated, an I/O error). */
#include <shoal/version.h>

#include "tool.h"

#include <hdf5.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(const tool_args *a);
    const char *summary;   /* one line, for `shoal --help` */
    const char *doc;       /* the rest of `shoal help CMD` */
    tool_option options[TOOL_MAX_OPTIONS];
} command;

/* Option indices of each command (tool_args.opt[...]) follow its table. */
static const command commands[] = {
    {.name = "status",
     .run = tool_status,
     .summary = "state, counts, rate and ETA, per-rank summary, segment history",
     .doc = "The app, its config, the run's state (running, with the pid and host of\n"
            "the run that holds the file's lock; complete; interrupted; killed),\n"
            "tasks done / failed / running / pending, the wall time so far, and\n"
            "while a run goes on its rate and ETA (from measured task times; see\n"
            "docs/commands.md). Then the tasks and busy time per rank and, for a\n"
            "closed file, /ranks; and the history of segments (the first run and\n"
            "each resume). Works on a file that a run is writing.",
     .options = {{"ranks", NULL, "list every rank (default: the first 16 and a summary)"}}},
    {.name = "failures",
     .run = tool_failures,
     .summary = "the failed tasks: task, parameters, code, attempts, message",
     .doc = "One line per failed task, lowest index first: the task, its\n"
            "parameters, the code it returned, its attempts and its message. A\n"
            "file keeps the messages of the first 64 failures per rank; a failed\n"
            "task beyond those shows its code and \"(message not kept)\".",
     .options = {{"limit", "N", "list at most N failed tasks (the count is still given)"}}},
    {.name = "config",
     .run = tool_config,
     .summary = "the config that made the file, ready to rerun",
     .doc = "The config file the run read, with its --set overrides written into\n"
            "it, so that\n"
            "  shoal config FILE > again.ini\n"
            "  mpirun -n N APP again.ini --resume -o FILE\n"
            "is the same run (the same fingerprint). Comments at the top say where\n"
            "it came from, and list the environment variables it used, as they were.",
     .options = {{NULL, NULL, NULL}}},
    {.name = "export",
     .run = tool_export,
     .summary = "per-task columns (params, results, tasks) as CSV or TSV",
     .doc = "One row per task (header first): task, the parameters (/params, point,\n"
            "replicate), the results (/results) and the task columns (status, rank,\n"
            "seconds, error, attempts). Array fields are flattened into name[0],\n"
            "name[1], ... (name[i][j] for matrices), or skipped with --arrays skip\n"
            "(a note on stderr names them). Fields with the separator, a quote or a\n"
            "line break are quoted (\"\"), doubled quotes inside, as RFC 4180 and R\n"
            "read them. Floating-point values are written exactly (17 digits; NaN,\n"
            "Inf, -Inf). A name in two groups is prefixed with its group\n"
            "(params/x, results/x).",
     .options = {{"tsv", NULL, "tab-separated instead of comma-separated"},
                 {"arrays", "flatten|skip", "array fields: one column per element (default), or none"},
                 {"columns", "LIST", "only these columns, comma-separated names as in the header "
                                     "(an array field by its name gives all its elements); task "
                                     "always comes first"},
                 {"done", NULL, "only the rows of tasks that are done"}}},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void usage_line(FILE *out, const command *c)
{
    fprintf(out, "usage: shoal %s [options] FILE\n", c->name);
}

static void command_help(FILE *out, const command *c)
{
    usage_line(out, c);
    fprintf(out, "\n%s\n\n%s\n\noptions:\n", c->summary, c->doc);
    for (size_t i = 0; i < TOOL_MAX_OPTIONS && c->options[i].name; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", c->options[i].name, c->options[i].arg ? " " : "",
                 c->options[i].arg ? c->options[i].arg : "");
        /* The doc wrapped at word boundaries into a column of 54. */
        const char *d = c->options[i].doc;
        const char *lead = left;
        while (*d) {
            size_t len = strlen(d);
            if (len > 54) {
                len = 54;
                while (len > 0 && d[len] != ' ')
                    len--;
                if (len == 0)
                    len = strcspn(d, " ");
            }
            fprintf(out, "  %-22s %.*s\n", lead, (int)len, d);
            lead = "";
            d += len;
            while (*d == ' ')
                d++;
        }
    }
    fprintf(out, "  %-22s %s\n", "-h, --help", "this help");
    fprintf(out, "\nexit status: 0 done, 2 usage or FILE missing or not a Shoal result "
                 "file, 4 FILE cannot be read\n");
}

static void main_help(FILE *out)
{
    fprintf(out, "usage: shoal COMMAND [options] FILE\n"
                 "       shoal help COMMAND | shoal --help | shoal --version\n\n"
                 "Look into a Shoal result file, finished or being written by a run.\n"
                 "Reads only; needs no MPI.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`shoal COMMAND --help` or `shoal help COMMAND` for its options.\n"
                 "exit status: 0 done, 2 usage or FILE missing or not a Shoal result "
                 "file, 4 FILE cannot be read (damaged, truncated, I/O error)\n");
}

/* "no command 'x'": the commands by name, from the table. */
static int no_command(const char *name)
{
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < NCOMMANDS && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 commands[i].name);
    return tool_fail(TOOL_USAGE, "no command '%s'; commands: %s (see 'shoal --help')", name,
                     list);
}

static int usage_error(const command *c, const char *what)
{
    tool_fail(TOOL_USAGE, "%s; see 'shoal %s --help'", what, c->name);
    return TOOL_USAGE;
}

/* Parse argv[1..] of command c into a; -1 when help was printed. */
static int parse(const command *c, int argc, char **argv, tool_args *a)
{
    memset(a, 0, sizeof *a);
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        char msg[512];
        if (!only_files && (!strcmp(s, "-h") || !strcmp(s, "--help"))) {
            command_help(stdout, c);
            return -1;
        }
        if (!only_files && !strcmp(s, "--")) {
            only_files = 1;
            continue;
        }
        if (!only_files && s[0] == '-' && s[1]) {
            const char *name = s[1] == '-' ? s + 2 : s + 1;
            size_t len = strcspn(name, "=");
            size_t k = 0;
            while (k < TOOL_MAX_OPTIONS && c->options[k].name &&
                   !(strlen(c->options[k].name) == len && !strncmp(c->options[k].name, name, len)))
                k++;
            if (s[1] != '-' || k == TOOL_MAX_OPTIONS || !c->options[k].name) {
                snprintf(msg, sizeof msg, "unknown option '%s' for 'shoal %s'", s, c->name);
                return usage_error(c, msg);
            }
            const char *value = name[len] == '=' ? name + len + 1 : NULL;
            if (!c->options[k].arg) {
                if (value) {
                    snprintf(msg, sizeof msg, "option --%s takes no value", c->options[k].name);
                    return usage_error(c, msg);
                }
                value = "1";
            } else if (!value) {
                if (i + 1 >= argc) {
                    snprintf(msg, sizeof msg, "option --%s needs a value (%s)",
                             c->options[k].name, c->options[k].arg);
                    return usage_error(c, msg);
                }
                value = argv[++i];
            }
            a->opt[k] = value;
            continue;
        }
        if (a->file) {
            snprintf(msg, sizeof msg, "one FILE at a time: got '%s' and '%s'", a->file, s);
            return usage_error(c, msg);
        }
        a->file = s;
    }
    if (!a->file)
        return usage_error(c, "no FILE given (a Shoal result file, e.g. results.h5)");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_help(stderr);
        return TOOL_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        main_help(stdout);
        return TOOL_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("shoal %s (HDF5 %d.%d.%d)\n", SHOAL_VERSION_STRING, H5_VERS_MAJOR,
               H5_VERS_MINOR, H5_VERS_RELEASE);
        return TOOL_OK;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            main_help(stdout);
            return TOOL_OK;
        }
        const command *c = find(argv[2]);
        if (!c)
            return no_command(argv[2]);
        command_help(stdout, c);
        return TOOL_OK;
    }
    const command *c = find(cmd);
    if (!c)
        return no_command(cmd);
    tool_args a;
    int rc = parse(c, argc - 1, argv + 1, &a);
    if (rc)
        return rc < 0 ? TOOL_OK : rc;
    tool_capture_lib_messages();
    return c->run(&a);
}
