/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu cat: the whole log as one CSV stream, whatever its storage: every
 * record of every segment in order, byte for byte as written, under exactly
 * one header line (the first segment's). Lines that cannot be parsed are
 * reported with their place and left out.
 */
#include <stdio.h>
#include <string.h>

#include "log/convert.h"
#include "query/cli.h"
#include "query/commands.h"
#include "query/output.h"
#include "query/reader.h"
#include "util/log.h"
#include "util/strbuf.h"

static void cat_usage(void)
{
	printf("usage: onmitsu cat [--log-dir DIR] [--format csv|jsonl]\n"
	       "\n"
	       "Print every record of the log, all segments (plain or compressed) in order,\n"
	       "as one CSV stream with one header line. Unreadable lines are reported on\n"
	       "stderr with their file and line number and left out.\n"
	       "\n"
	       "  -d, --log-dir DIR   the log directory (default " DEFAULT_LOG_DIR ")\n"
	       "  -f, --format FMT    csv or jsonl (JSON Lines, ECS names); default: the\n"
	       "                      log's own. Converts either way without loss\n"
	       "  -h, --help          this help\n");
}

static int cat_option(int c, const char *arg, void *ctx)
{
	int *format = ctx;
	if (c != 'f')
		return CLI_SHARED;
	if (strcmp(arg, "csv") == 0)
		*format = LOG_FORMAT_CSV;
	else if (strcmp(arg, "jsonl") == 0)
		*format = LOG_FORMAT_JSONL;
	else
		return usage_error("cat", "bad --format '%s': want csv or jsonl", arg);
	return CLI_NEXT;
}

int cmd_cat(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"log-dir", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli;
	cli_init(&cli, "cat", cat_usage);
	int format = -1;
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT "f:", longopts, cat_option, &format);
	if (rc != CLI_NEXT)
		return rc;
	if ((rc = cli_no_operands(&cli)))
		return rc;
	const char *dir = cli.dir;

	/* JSON Lines, on either side: the log's own converter (log/convert.h) */
	int have = log_dir_format(dir);
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
