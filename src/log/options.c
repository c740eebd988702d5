/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/parse.h"

const char log_writer_usage[] =
    "      --format csv|jsonl  log format (default csv; jsonl: ECS names)\n"
    "      --rotate-size SIZE --rotate-age AGE   new segment after (64M, 1d; 0: off)\n"
    "      --keep-size SIZE --keep-age AGE   expire the oldest beyond (1G, 90d)\n"
    "      --compress-level N  zstd level of closed segments, 1..19, 0: none (9)\n"
    "      --seal-key FILE     seal the chain (`onmitsu keygen`; default if present:\n"
    "                          " SEAL_DEFAULT_KEY_FILE "; none: no seals),\n"
    "                          every --seal-interval DURATION (default 5m)\n"
    "      --syslog HOST:PORT  also send every record as RFC 5424 over TCP\n";

int parse_duration(const char *s, uint64_t *seconds)
{
	char *e;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno)
		return -1;
	uint64_t mul = 1;
	if (*e == 's')
		e++;
	else if (*e == 'm')
		mul = 60, e++;
	else if (*e == 'h')
		mul = 3600, e++;
	else if (*e == 'd')
		mul = 86400, e++;
	if (*e || v > UINT64_MAX / mul / 1000000000ull)
		return -1;
	*seconds = v * mul;
	return 0;
}

void log_settings_init(struct log_settings *s)
{
	memset(s, 0, sizeof(*s));
	log_writer_opts_default(&s->w);
}

/* err: what would be right, for the caller to prefix with the option and value */
static int want(char *err, size_t errsize, const char *what)
{
	snprintf(err, errsize, "want %s", what);
	return -1;
}

int log_settings_set(struct log_settings *s, int ch, const char *arg, char *err, size_t errsize)
{
	uint64_t v;
	switch (ch) {
	case LOG_OPT_FORMAT:
		if (strcmp(arg, "csv") == 0)
			s->w.format = LOG_FORMAT_CSV;
		else if (strcmp(arg, "jsonl") == 0)
			s->w.format = LOG_FORMAT_JSONL;
		else
			return want(err, errsize, "csv or jsonl");
		return 1;
	case LOG_OPT_ROTATE_SIZE:
	case LOG_OPT_KEEP_SIZE:
		if (parse_size(arg, &v) != 0 || (v && v < LOG_MIN_ROTATE_SIZE))
			return want(err, errsize,
				    "a size of at least 4K with K/M/G suffixes, e.g. 64M, or 0");
		if (ch == LOG_OPT_ROTATE_SIZE)
			s->w.rotate_size = v;
		else
			s->w.keep_size = v;
		return 1;
	case LOG_OPT_ROTATE_AGE:
	case LOG_OPT_KEEP_AGE:
		if (parse_duration(arg, &v) != 0)
			return want(err, errsize, "a duration such as 90d, 12h, 30m, 45s, or 0");
		if (ch == LOG_OPT_ROTATE_AGE)
			s->w.rotate_age = v;
		else
			s->w.keep_age = v;
		return 1;
	case LOG_OPT_COMPRESS: {
		char *e;
		long l = strtol(arg, &e, 10);
		if (!*arg || *e || l < 0 || l > 19)
			return want(err, errsize, "0 (no compression) to 19");
		s->w.compress_level = (int)l;
		return 1;
	}
	case LOG_OPT_SEAL_KEY:
		if (!*arg)
			return want(err, errsize, "the key file `onmitsu keygen` wrote");
		/* "none": no seals, not even with the default key present */
		s->w.seal_key = strcmp(arg, "none") == 0 ? NULL : arg;
		s->seal_key_given = 1;
		return 1;
	case LOG_OPT_SEAL_INTERVAL:
		if (parse_duration(arg, &v) != 0 || v == 0)
			return want(err, errsize, "a duration of 1s or more, e.g. 5m");
		s->w.seal_interval = v;
		return 1;
	case LOG_OPT_SYSLOG: {
		const char *colon = strrchr(arg, ':');
		char *e;
		long port = colon ? strtol(colon + 1, &e, 10) : 0;
		if (!colon || colon == arg || !colon[1] || *e || port < 1 || port > 65535)
			return want(err, errsize,
				    "HOST:PORT, e.g. 192.0.2.10:514 or [2001:db8::1]:514");
		s->syslog = arg;
		return 1;
	}
	default:
		return 0;
	}
}

int log_settings_option(struct log_settings *s, int ch, const char *arg)
{
	char err[256];
	int rc = log_settings_set(s, ch, arg, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "onmitsu record: bad --%s \"%s\": %s\n", log_option_name(ch), arg,
			err);
	return rc;
}

const char *log_option_name(int ch)
{
	switch (ch) {
	case LOG_OPT_FORMAT:
		return "format";
	case LOG_OPT_ROTATE_SIZE:
		return "rotate-size";
	case LOG_OPT_ROTATE_AGE:
		return "rotate-age";
	case LOG_OPT_KEEP_SIZE:
		return "keep-size";
	case LOG_OPT_KEEP_AGE:
		return "keep-age";
	case LOG_OPT_COMPRESS:
		return "compress-level";
	case LOG_OPT_SEAL_KEY:
		return "seal-key";
	case LOG_OPT_SEAL_INTERVAL:
		return "seal-interval";
	case LOG_OPT_SYSLOG:
		return "syslog";
	default:
		return "?";
	}
}

void log_settings_finish(struct log_settings *s)
{
	if (!s->seal_key_given && access(SEAL_DEFAULT_KEY_FILE, F_OK) == 0)
		s->w.seal_key = SEAL_DEFAULT_KEY_FILE;
	s->w.syslog = s->syslog;
}

int log_dir_option_check(const char *dir, char *err, size_t errsize)
{
	if (!*dir) {
		snprintf(err, errsize, "--log-dir needs a directory, not \"\"");
		return -1;
	}
	if (strcmp(dir, "-") == 0) {
		snprintf(err, errsize,
			 "--log-dir \"-\": the log is a directory of segments, never standard "
			 "output; give a directory (e.g. /var/log/onmitsu), and to watch the "
			 "records as they are written, run onmitsu cat --follow");
		return -1;
	}
	if (dir[0] == '-') {
		snprintf(err, errsize,
			 "--log-dir \"%s\" looks like an option, not a directory: give the "
			 "directory right after --log-dir (a directory whose name starts with "
			 "'-' is written ./%s)",
			 dir, dir);
		return -1;
	}
	return 0;
}
