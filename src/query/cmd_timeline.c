/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu timeline: what a process (and, with --descendants, its family) did,
 * record by record in time order; or everything in a time window.
 *
 * The first pass builds the process history (to know the family and to name
 * each record's program); the second streams the records out, so a timeline
 * of the whole log needs no more memory than the history.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/commands.h"
#include "query/filter.h"
#include "query/history.h"
#include "query/output.h"
#include "query/report.h"
#include "util/log.h"

static void timeline_usage(void)
{
	printf(
	    "usage: onmitsu timeline [--guid G | --pid P [--at T]] [--descendants] [OPTION...]\n"
	    "\n"
	    "Show records in time order: those of one process (with --descendants, of its\n"
	    "whole family), or, with no process given, every record in the time window.\n"
	    "\n"
	    "  --guid G              the process with this guid\n"
	    "  --pid P [--at T]      the process with pid P (at time T when the pid was reused)\n"
	    "  --descendants         its children, their children, ... too\n"
	    "  --since T, --until T  UTC ISO 8601 (2026-11-25T19:13:17Z) or relative (-2h)\n"
	    "  --json                JSON Lines: each record as an object, keys by column name\n"
	    "  --csv                 the records as the log has them, under one header line\n"
	    "  -d, --log-dir DIR     the log directory (default " DEFAULT_LOG_DIR ")\n"
	    "  -h, --help            this help\n");
}

enum {
	OPT_GUID = 256,
	OPT_PID,
	OPT_AT,
	OPT_DESCENDANTS,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_JSON,
	OPT_CSV,
};

struct timeline_state {
	uint8_t *member; /* NULL: every record */
	uint64_t since_ns, until_ns;
	enum out_format format;
	struct strbuf out;
	bool header_done;
	const char *header;
	uint64_t shown;
};

static bool numeric_column(const char *name)
{
	static const char *const numeric[] = {"seq", "pid", "ppid", "uid", "src_port", "dst_port"};
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
		if (strcmp(name, numeric[i]) == 0)
			return true;
	return false;
}

static void json_record(struct strbuf *out, const struct log_record *rec)
{
	sb_addc(out, '{');
	bool first = true;
	for (int i = 0; i < rec->nfields; i++) {
		const char *v = rec->fields[i];
		if (!*v)
			continue;
		if (!first)
			sb_addc(out, ',');
		first = false;
		json_str(out, rec->names[i]);
		sb_addc(out, ':');
		if (numeric_column(rec->names[i]))
			sb_adds(out, v); /* the reader checked it is digits */
		else
			json_str(out, v);
	}
	sb_adds(out, "}\n");
}

static void table_record(struct strbuf *out, const struct history *h, const struct log_record *rec,
			 int32_t proc)
{
	const char *ev = rec->f[COL_EVENT];
	const char *pid = *rec->f[COL_PID] ? rec->f[COL_PID] : "-";
	sb_addf(out, "%s  %-8s  %7s  ", rec->f[COL_TIME], ev, pid);
	const char *exe = rec->f[COL_EXE];
	if (!*exe && proc != PROC_NONE) {
		const struct proc_image *im = history_image_at(h, proc, rec->time_ns);
		exe = im ? history_str(h, im->exe) : "";
	}
	switch (rec->event) {
	case OM_EVENT_EXISTING:
	case OM_EVENT_FORK:
	case OM_EVENT_EXEC:
		sb_adds(out, *exe ? exe : "?");
		if (*rec->f[COL_CMDLINE] && strcmp(rec->f[COL_CMDLINE], exe) != 0)
			sb_addf(out, "  (%s)", rec->f[COL_CMDLINE]);
		if (rec->event == OM_EVENT_FORK && *rec->f[COL_PPID])
			sb_addf(out, "  from %s", rec->f[COL_PPID]);
		break;
	case OM_EVENT_EXIT:
		sb_addf(out, "%s  %s", *exe ? exe : "?", rec->f[COL_RESULT]);
		break;
	case OM_EVENT_MODLOAD:
		sb_addf(out, "%s  %s", *exe ? exe : "?", rec->f[COL_PATH]);
		break;
	case OM_EVENT_NET:
		sb_addf(out, "%s  ", *exe ? exe : "?");
		flow_text(out, rec->f[COL_PROTO], rec->f[COL_SRC_IP],
			  log_field_num(rec->f[COL_SRC_PORT]), rec->f[COL_DST_IP],
			  log_field_num(rec->f[COL_DST_PORT]), rec->f[COL_DIRECTION],
			  rec->f[COL_RESULT]);
		break;
	default:
		sb_adds(out, rec->f[COL_DETAIL]);
		break;
	}
	if (*rec->f[COL_DETAIL] && rec->event != OM_EVENT_START && rec->event != OM_EVENT_STOP &&
	    rec->event != OM_EVENT_LOST && rec->event >= 0)
		sb_addf(out, "  [%s]", rec->f[COL_DETAIL]);
	sb_addc(out, '\n');
}

static void timeline_record(struct history *h, const struct log_record *rec, int32_t proc,
			    void *arg)
{
	struct timeline_state *st = arg;
	if (rec->time_ns < st->since_ns || rec->time_ns > st->until_ns)
		return;
	if (st->member && (proc == PROC_NONE || !st->member[proc]))
		return;
	st->shown++;
	switch (st->format) {
	case OUT_CSV:
		sb_add(&st->out, rec->raw, rec->raw_len);
		sb_addc(&st->out, '\n');
		break;
	case OUT_JSON:
		json_record(&st->out, rec);
		break;
	default:
		table_record(&st->out, h, rec, proc);
		break;
	}
	out_flush(&st->out, stdout, false);
}

int cmd_timeline(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"guid", required_argument, NULL, OPT_GUID},
	    {"pid", required_argument, NULL, OPT_PID},
	    {"at", required_argument, NULL, OPT_AT},
	    {"descendants", no_argument, NULL, OPT_DESCENDANTS},
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"until", required_argument, NULL, OPT_UNTIL},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"log-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_LOG_DIR, *guid = NULL;
	int64_t pid = -1;
	uint64_t at = 0, now = now_unix_ns();
	bool descendants = false;
	struct timeline_state st = {.since_ns = 0, .until_ns = UINT64_MAX, .format = OUT_TABLE};
	char err[512];
	int c;
	options_reset();
	while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_GUID:
			guid = optarg;
			break;
		case OPT_PID:
			pid = log_field_num(optarg);
			if (pid < 0 || pid > INT32_MAX)
				return usage_error("timeline",
						   "--pid \"%s\" is not a process id: use a number "
						   "like 4242",
						   optarg);
			break;
		case OPT_AT:
			if (parse_time_arg(optarg, now, &at, err, sizeof(err)) < 0)
				return usage_error("timeline", "--at %s", err);
			break;
		case OPT_DESCENDANTS:
			descendants = true;
			break;
		case OPT_SINCE:
			if (parse_time_arg(optarg, now, &st.since_ns, err, sizeof(err)) < 0)
				return usage_error("timeline", "--since %s", err);
			break;
		case OPT_UNTIL:
			if (parse_time_arg(optarg, now, &st.until_ns, err, sizeof(err)) < 0)
				return usage_error("timeline", "--until %s", err);
			break;
		case OPT_JSON:
			st.format = OUT_JSON;
			break;
		case OPT_CSV:
			st.format = OUT_CSV;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			timeline_usage();
			return 0;
		default:
			return option_error("timeline", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("timeline", "unexpected argument '%s'", argv[optind]);
	if (guid && pid >= 0)
		return usage_error("timeline", "give --guid or --pid, not both");
	if (at && pid < 0)
		return usage_error("timeline", "--at goes with --pid");
	if (descendants && !guid && pid < 0)
		return usage_error("timeline", "--descendants needs --guid or --pid");
	if (st.since_ns > st.until_ns)
		return usage_error("timeline", "--since is after --until: nothing can match");

	struct history h;
	history_init(&h);
	int rc = history_load(&h, dir, 0, NULL, NULL);
	if (rc && !h.records) {
		history_free(&h);
		return 1;
	}
	if (guid || pid >= 0) {
		int32_t target;
		struct strbuf msg = STRBUF_INIT;
		int pick = history_pick(&h, pid, at, guid, &target, &msg);
		if (pick) {
			log_warnx("timeline: %s", sb_str(&msg));
			sb_free(&msg);
			history_free(&h);
			return pick == 2 ? 2 : 1;
		}
		sb_free(&msg);
		st.member = calloc(h.nprocs, 1);
		if (!st.member)
			fatal("out of memory");
		st.member[target] = 1;
		if (descendants)
			history_mark_descendants(&h, target, st.member, 1);
	}
	if (st.format == OUT_CSV) {
		/* the same header cat prints: the first segment's */
		struct log_reader_opts o = {.events = HISTORY_EVENTS, .quiet = true};
		struct log_reader *r = log_reader_open(dir, &o, err, sizeof(err));
		if (r) {
			struct log_record tmp;
			log_reader_next(r, &tmp);
			sb_adds(&st.out, log_reader_header(r));
			sb_addc(&st.out, '\n');
			log_reader_close(r);
		}
	}
	int rc2 = history_scan(&h, dir, LOG_EVENTS_ALL, st.format == OUT_CSV, timeline_record, &st);
	if (rc2)
		rc = rc2;
	if (out_flush(&st.out, stdout, true) < 0) {
		log_warn("timeline: writing the output failed");
		rc = 1;
	}
	if (!st.shown && st.format == OUT_TABLE)
		log_warnx("timeline: no record matches");
	sb_free(&st.out);
	free(st.member);
	history_free(&h);
	return rc;
}
