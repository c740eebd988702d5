/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The options the investigation commands share: --log-dir, --help, --json,
 * --csv, --since/--until, --pid/--at/--guid. One parser for all of them, so
 * that every command checks a value, and words the error for a bad one, the
 * same way.
 *
 * A command lists in its getopt_long table the CLI_LONG_* entries of the
 * shared options it takes (and ends it with CLI_LONG_END), numbers its own
 * long options from CLI_OPT_OWN, and hands cli_parse a function for those.
 */
#ifndef ONMITSU_QUERY_CLI_H
#define ONMITSU_QUERY_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>

#include "query/history.h"
#include "query/output.h"

enum {
	CLI_OPT_JSON = 256,
	CLI_OPT_CSV,
	CLI_OPT_SINCE,
	CLI_OPT_UNTIL,
	CLI_OPT_PID,
	CLI_OPT_AT,
	CLI_OPT_GUID,
	CLI_OPT_OWN, /* a command's own long options are numbered from here */
};

/* -d DIR and -h; ':' first, so that a missing value is told from an unknown
 * option. A command with short options of its own appends them. */
#define CLI_SHORT ":d:h"

/* by hand: clang-format would spread each initializer over four lines */
/* clang-format off */
#define CLI_LONG_JSON {"json", no_argument, NULL, CLI_OPT_JSON}
#define CLI_LONG_CSV {"csv", no_argument, NULL, CLI_OPT_CSV}
#define CLI_LONG_SINCE {"since", required_argument, NULL, CLI_OPT_SINCE}
#define CLI_LONG_UNTIL {"until", required_argument, NULL, CLI_OPT_UNTIL}
#define CLI_LONG_PID {"pid", required_argument, NULL, CLI_OPT_PID}
#define CLI_LONG_AT {"at", required_argument, NULL, CLI_OPT_AT}
#define CLI_LONG_GUID {"guid", required_argument, NULL, CLI_OPT_GUID}
/* every command takes these; they end the table */
#define CLI_LONG_END \
	{"log-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}
/* clang-format on */

struct cli {
	const char *cmd; /* its name, for messages */
	void (*usage)(void);
	const char *dir;	     /* --log-dir, DEFAULT_LOG_DIR */
	enum out_format format;	     /* --json, --csv; OUT_TABLE */
	uint64_t now_ns;	     /* what relative times count back from */
	uint64_t since_ns, until_ns; /* 0 / UINT64_MAX: open */
	int64_t pid;		     /* -1: none */
	uint64_t at_ns;		     /* 0: none */
	const char *guid;	     /* NULL: none */
	char **operands;	     /* what follows the options */
	int noperands;
};

/* Defaults; relative times count back from now. */
void cli_init(struct cli *cli, const char *cmd, void (*usage)(void));

/* What a command's option function and cli_parse return to go on parsing. */
#define CLI_NEXT (-1)
/* What a command's option function returns for an option it leaves to the
 * shared parser. */
#define CLI_SHARED (-2)

/*
 * A command's own options: called first for every option, with its code and
 * value; returns CLI_NEXT, CLI_SHARED, or the exit status to leave with (2
 * after reporting a bad value).
 */
typedef int (*cli_option_fn)(int c, const char *arg, void *ctx);

/*
 * Parse argv with getopt_long (shortopts: CLI_SHORT and the command's own),
 * the shared options into cli, the others through own (NULL: there are
 * none). Returns CLI_NEXT, with the operands left in cli->operands, or the
 * exit status the command returns now: 0 after --help, 2 after a bad value or
 * an unknown option (each reported).
 */
int cli_parse(struct cli *cli, int argc, char **argv, const char *shortopts,
	      const struct option *longopts, cli_option_fn own, void *ctx);

/* 2 (reported) when an operand is left after the options, else 0. */
int cli_no_operands(const struct cli *cli);
/* 2 (reported) when --since is after --until, else 0. */
int cli_check_window(const struct cli *cli);

/*
 * The process --guid or --pid [--at] names (history_pick). Returns 0 and sets
 * *target; 1 (none) or 2 (several: pid reuse), with the reason printed.
 */
int cli_pick(const struct cli *cli, const struct history *h, int32_t *target);

/*
 * history_init and history_load from cli->dir. Returns -1 when not one record
 * could be read (h freed, the reason printed: the command fails), else what
 * history_load returned (1: only part of the log was read, the results stand).
 */
int cli_load(const struct cli *cli, struct history *h, uint32_t extra_events, history_record_fn fn,
	     void *arg);

/* Write out what is left of sb to stdout; on failure say so (with errno) and
 * return 1, else 0. */
int cli_flush(const struct cli *cli, struct strbuf *sb);

/* --follow: SIGINT and SIGTERM call handler (no SA_RESTART, so that a wait
 * ends at once) and SIGPIPE is ignored (a write to a closed reader fails);
 * restore puts back what was there. */
struct follow_signals {
	struct sigaction old_int, old_term, old_pipe;
};
void follow_signals_install(struct follow_signals *s, void (*handler)(int));
void follow_signals_restore(const struct follow_signals *s);

#endif
