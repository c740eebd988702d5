/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu timeline: what a process (and, with --descendants, its family) did,
 * record by record in time order; or everything in a time window.
 *
 * The first pass builds the process history (to know the family and to name
 * each record's program); the second streams the records out, so a timeline
 * of the whole log needs no more memory than the history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/cli.h"
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

enum { OPT_DESCENDANTS = CLI_OPT_OWN };

struct timeline_state {
	uint8_t *member; /* NULL: every record */
	uint64_t since_ns, until_ns;
	enum out_format format;
	struct strbuf out;
	uint64_t shown;
};

static bool numeric_column(const char *name)
{
	static const char *const numeric[] = {"seq",	  "pid",      "ppid",	   "uid",
					      "src_port", "dst_port", "target_pid"};
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
	case OM_EVENT_DNS:
		/* who asked what, and what came back */
		sb_addf(out, "%s  %s %s", *exe ? exe : "?", rec->f[COL_DNS_TYPE],
			rec->f[COL_DNS_NAME]);
		if (*rec->f[COL_RESULT])
			sb_addf(out, " -> %s", rec->f[COL_RESULT]);
		if (*rec->f[COL_DNS_ANSWERS])
			sb_addf(out, " %s", rec->f[COL_DNS_ANSWERS]);
		sb_addf(out, "  (%s %s)", rec->f[COL_PROTO], rec->f[COL_DST_IP]);
		break;
	case OM_EVENT_INJECT:
		/* the actor, what it did, to whom */
		sb_addf(out, "%s  %s", *exe ? exe : "?", rec->f[COL_RESULT]);
		if (*rec->f[COL_TARGET_PID] || *rec->f[COL_TARGET_GUID]) {
			int32_t tp = *rec->f[COL_TARGET_GUID]
					 ? history_find_guid(h, rec->f[COL_TARGET_GUID])
					 : PROC_NONE;
			const struct proc_image *im =
			    tp == PROC_NONE ? NULL : history_image_at(h, tp, rec->time_ns);
			sb_addf(out, " -> %s %s",
				*rec->f[COL_TARGET_PID] ? rec->f[COL_TARGET_PID] : "?",
				im && *history_str(h, im->exe) ? history_str(h, im->exe) : "?");
			if (*rec->f[COL_TARGET_GUID])
				sb_addf(out, " (guid %s)", rec->f[COL_TARGET_GUID]);
		}
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
	if (st->member && (proc == PROC_NONE || !st->member[proc])) {
		/* an INJECT is on its target's timeline too */
		int32_t target = rec->event == OM_EVENT_INJECT && *rec->f[COL_TARGET_GUID]
				     ? history_find_guid(h, rec->f[COL_TARGET_GUID])
				     : PROC_NONE;
		if (target == PROC_NONE || !st->member[target])
			return;
	}
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

static int timeline_option(int c, const char *arg, void *ctx)
{
	bool *descendants = ctx;
	if (c != OPT_DESCENDANTS)
		return CLI_SHARED;
	*descendants = true;
	return CLI_NEXT;
}

int cmd_timeline(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_LONG_GUID,  CLI_LONG_PID,
	    CLI_LONG_AT,    {"descendants", no_argument, NULL, OPT_DESCENDANTS},
	    CLI_LONG_SINCE, CLI_LONG_UNTIL,
	    CLI_LONG_JSON,  CLI_LONG_CSV,
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "timeline", timeline_usage);
	bool descendants = false;
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT, longopts, timeline_option, &descendants);
	if (rc != CLI_NEXT)
		return rc;
	if ((rc = cli_no_operands(&cli)))
		return rc;
	if (cli.guid && cli.pid >= 0)
		return usage_error("timeline", "give --guid or --pid, not both");
	if (cli.at_ns && cli.pid < 0)
		return usage_error("timeline", "--at goes with --pid");
	if (descendants && !cli.guid && cli.pid < 0)
		return usage_error("timeline", "--descendants needs --guid or --pid");
	if ((rc = cli_check_window(&cli)))
		return rc;
	struct timeline_state st = {
	    .since_ns = cli.since_ns, .until_ns = cli.until_ns, .format = cli.format};

	struct history h;
	if ((rc = cli_load(&cli, &h, 0, NULL, NULL)) < 0)
		return 1;
	if (cli.guid || cli.pid >= 0) {
		int32_t target;
		int pick = cli_pick(&cli, &h, &target);
		if (pick) {
			history_free(&h);
			return pick;
		}
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
		char err[512];
		struct log_reader *r = log_reader_open(cli.dir, &o, err, sizeof(err));
		if (r) {
			struct log_record tmp;
			log_reader_next(r, &tmp);
			sb_adds(&st.out, log_reader_header(r));
			sb_addc(&st.out, '\n');
			log_reader_close(r);
		}
	}
	int rc2 =
	    history_scan(&h, cli.dir, LOG_EVENTS_ALL, st.format == OUT_CSV, timeline_record, &st);
	if (rc2)
		rc = rc2;
	if (cli_flush(&cli, &st.out))
		rc = 1;
	if (!st.shown && st.format == OUT_TABLE)
		log_warnx("timeline: no record matches");
	sb_free(&st.out);
	free(st.member);
	history_free(&h);
	return rc;
}
