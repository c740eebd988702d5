/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu cat: the whole log as one CSV stream, whatever its storage: every
 * record of every segment in order, byte for byte as written, under exactly
 * one header line (the first segment's). Lines that cannot be parsed are
 * reported with their place and left out.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log/convert.h"
#include "log/schema.h"
#include "query/cli.h"
#include "query/commands.h"
#include "query/output.h"
#include "query/reader.h"
#include "util/log.h"
#include "util/strbuf.h"

static void cat_usage(void)
{
	printf("usage: onmitsu cat [--follow] [--seq N | --since T] [--format csv|jsonl]\n"
	       "                   [--log-dir DIR]\n"
	       "\n"
	       "Print every record of the log, all segments (plain or compressed) in order,\n"
	       "as one CSV stream with one header line. Unreadable lines are reported on\n"
	       "stderr with their file and line number and left out.\n"
	       "\n"
	       "  -F, --follow        then print each record as it is written, across\n"
	       "                      rotations and compression, until interrupted or the\n"
	       "                      reader goes away (for piping: a line at a time)\n"
	       "      --seq N         start at the record of seq N\n"
	       "      --since T       start at the first record of time T or later: UTC ISO\n"
	       "                      8601 (2026-11-25T19:13:17Z) or relative (-2h, -30m)\n"
	       "  -d, --log-dir DIR   the log directory (default " DEFAULT_LOG_DIR ")\n"
	       "  -f, --format FMT    csv or jsonl (JSON Lines, ECS); default: the\n"
	       "                      log's own. Converts either way without loss\n"
	       "  -h, --help          this help\n");
}

enum { OPT_SEQ = CLI_OPT_OWN };

struct cat_options {
	int format;
	bool follow;
	bool has_seq;
	uint64_t seq;
};

static int cat_option(int c, const char *arg, void *ctx)
{
	struct cat_options *o = ctx;
	switch (c) {
	case 'f':
		if (strcmp(arg, "csv") == 0)
			o->format = LOG_FORMAT_CSV;
		else if (strcmp(arg, "jsonl") == 0)
			o->format = LOG_FORMAT_JSONL;
		else
			return usage_error("cat", "bad --format '%s': want csv or jsonl", arg);
		return CLI_NEXT;
	case 'F':
		o->follow = true;
		return CLI_NEXT;
	case OPT_SEQ:
		if (!log_parse_u64(arg, strlen(arg), &o->seq))
			return usage_error("cat",
					   "--seq \"%s\" is not a seq: use a record's number, "
					   "e.g. 4242",
					   arg);
		o->has_seq = true;
		return CLI_NEXT;
	default:
		return CLI_SHARED;
	}
}

static volatile sig_atomic_t follow_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/* Follow until SIGINT or SIGTERM, or until the reader of the output goes
 * away (SIGPIPE is ignored: the write fails, and that ends it quietly). */
static int cat_follow(const char *dir, int format, const struct log_cat_filter *filter)
{
	struct follow_signals sigs;
	follow_signals_install(&sigs, on_stop_signal);
	follow_stop = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int rc = log_follow(dir, format, filter, stdout, &follow_stop);
	follow_signals_restore(&sigs);
	return rc;
}

int cmd_cat(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"follow", no_argument, NULL, 'F'},
	    {"seq", required_argument, NULL, OPT_SEQ},
	    CLI_LONG_SINCE,
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "cat", cat_usage);
	struct cat_options o = {.format = -1};
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT "f:F", longopts, cat_option, &o);
	if (rc != CLI_NEXT)
		return rc;
	if ((rc = cli_no_operands(&cli)))
		return rc;
	if (o.has_seq && cli.since_ns)
		return usage_error("cat", "give --seq or --since, not both");
	const char *dir = cli.dir;
	int format = o.format;
	struct log_cat_filter filter = {.from_seq = o.seq, .since_ns = cli.since_ns};
	bool filtered = o.has_seq || cli.since_ns;
	if (o.follow)
		return cat_follow(dir, format, filtered ? &filter : NULL);
	int have;
	if (filtered) {
		have = log_dir_format(dir);
		return log_cat_filtered(dir,
					format >= 0 ? (enum log_format)format
					: have >= 0 ? (enum log_format)have
						    : LOG_FORMAT_CSV,
					&filter, stdout);
	}

	/* JSON Lines, on either side: the log's own converter (log/convert.h) */
	have = log_dir_format(dir);
	if (have == LOG_FORMAT_JSONL || format == LOG_FORMAT_JSONL)
		return log_cat(dir, format < 0 ? (enum log_format)have : (enum log_format)format,
			       stdout);

	char err[512];
	struct log_reader_opts opts = {.events = LOG_EVENTS_ALL, .keep_raw = true};
	struct log_reader *r = log_reader_open(dir, &opts, err, sizeof(err));
	if (!r) {
		log_warnx("cat: %s", err);
		return 1;
	}
	struct strbuf out = STRBUF_INIT;
	struct log_record rec;
	bool header_done = false;
	while (log_reader_next(r, &rec) > 0) {
		if (!header_done) {
			sb_adds(&out, log_reader_header(r));
			sb_addc(&out, '\n');
			header_done = true;
		}
		sb_add(&out, rec.raw, rec.raw_len);
		sb_addc(&out, '\n');
		if (out_flush(&out, stdout, false) < 0) {
			rc = 1;
			break;
		}
	}
	/* a log of headers only still has its header */
	if (!header_done && *log_reader_header(r)) {
		sb_adds(&out, log_reader_header(r));
		sb_addc(&out, '\n');
	}
	if (out_flush(&out, stdout, true) < 0 || rc) {
		log_warn("cat: writing the output failed");
		rc = 1;
	} else if (log_reader_failed(r)) {
		rc = 1; /* known only once the whole log was read */
	}
	log_reader_close(r);
	sb_free(&out);
	return rc;
}
