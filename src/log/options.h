/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The options of `onmitsu record` that shape the log (docs/LIFECYCLE.md), so
 * that the recorder only splices them into its getopt table and help.
 */
#ifndef ONMITSU_LOG_OPTIONS_H
#define ONMITSU_LOG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "log/writer.h"

enum {
	LOG_OPT_FORMAT = 0x4c00,
	LOG_OPT_ROTATE_SIZE,
	LOG_OPT_ROTATE_AGE,
	LOG_OPT_KEEP_SIZE,
	LOG_OPT_KEEP_AGE,
	LOG_OPT_COMPRESS,
	LOG_OPT_SEAL_KEY,
	LOG_OPT_SEAL_INTERVAL,
	LOG_OPT_SYSLOG,
};

/* Entries for a struct option table. */
/* clang-format off */
#define LOG_WRITER_LONGOPTS                                                                     \
	{"format", required_argument, NULL, LOG_OPT_FORMAT},                                    \
		{"rotate-size", required_argument, NULL, LOG_OPT_ROTATE_SIZE},                  \
		{"rotate-age", required_argument, NULL, LOG_OPT_ROTATE_AGE},                    \
		{"keep-size", required_argument, NULL, LOG_OPT_KEEP_SIZE},                      \
		{"keep-age", required_argument, NULL, LOG_OPT_KEEP_AGE},                        \
		{"compress-level", required_argument, NULL, LOG_OPT_COMPRESS},                  \
		{"seal-key", required_argument, NULL, LOG_OPT_SEAL_KEY},                        \
		{"seal-interval", required_argument, NULL, LOG_OPT_SEAL_INTERVAL},              \
		{"syslog", required_argument, NULL, LOG_OPT_SYSLOG}
/* clang-format on */

/* The lines of --help for them. */
extern const char log_writer_usage[];

struct log_settings {
	struct log_writer_opts w;
	const char *syslog; /* HOST:PORT, or NULL */
	int seal_key_given; /* --seal-key: a missing key file is an error */
};

/* Defaults; the sealing key is SEAL_DEFAULT_KEY_FILE when it exists. */
void log_settings_init(struct log_settings *s);
/* 1: ch was one of ours and arg is good; 0: not ours; -1: bad value (a
 * message naming it and saying what would be right is printed). */
int log_settings_option(struct log_settings *s, int ch, const char *arg);
/* The same, silent: on a bad value -1 and err says what would be right
 * ("want ..."), for the caller to name the option and value. */
int log_settings_set(struct log_settings *s, int ch, const char *arg, char *err, size_t errsize);
/* "rotate-size", ... for a LOG_OPT_* */
const char *log_option_name(int ch);
/* After all options: pick the default key file if it exists. */
void log_settings_finish(struct log_settings *s);

/* Whether --log-dir DIR names a directory the recorder can write its log
 * into: not "", not "-" (the log is segments in a directory, never standard
 * output), not an option swallowed as its value ("--log-dir --format").
 * 0, or -1 with the reason and what would be right in err. */
int log_dir_option_check(const char *dir, char *err, size_t errsize);

/* "90d", "12h", "30m", "45s", "3600" (seconds) -> seconds; 0 or -1. */
int parse_duration(const char *s, uint64_t *seconds);

#endif
