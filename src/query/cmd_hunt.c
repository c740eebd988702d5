/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu hunt: rank what deserves a look in a time window (query/hunt.h),
 * as a table or JSON Lines (one object per finding, highest score first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/cli.h"
#include "query/commands.h"
#include "query/history.h"
#include "query/hunt.h"
#include "query/output.h"
#include "util/log.h"

static void hunt_usage(void)
{
	printf("usage: onmitsu hunt [--since T] [--until T] [--min-score S] [--json] [--log-dir "
	       "DIR]\n"
	       "\n"
	       "Rank what deserves a look in a time window, before anyone asked: regular\n"
	       "connection times (beacons), network from programs run from /tmp, a memfd or a\n"
	       "deleted file, a shell started by a network server, names that pretend to be\n"
	       "kernel threads, injection records, long-lived processes whose exited ancestor\n"
	       "ran from a download directory, destinations contacted for the first time.\n"
	       "Each finding has a score in [0, 1], the reason, and the records (seq, guid)\n"
	       "that prove it. The scores are explained in docs/QUERY.md.\n"
	       "\n"
	       "  --since T, --until T  the window (default: the 24 h before the log's last\n"
	       "                        record); UTC ISO 8601 or relative (-2h, -30m, -1d)\n"
	       "  --min-score S         only findings scoring at least S (0 to 1; default 0)\n"
	       "  --json                JSON Lines, one object per finding (see docs/QUERY.md)\n"
	       "  -d, --log-dir DIR     the log directory (default " DEFAULT_LOG_DIR ")\n"
	       "  -h, --help            this help\n");
}

enum { OPT_MIN_SCORE = CLI_OPT_OWN };

static int hunt_option(int c, const char *arg, void *ctx)
{
	double *min = ctx;
	if (c != OPT_MIN_SCORE)
		return CLI_SHARED;
	char *end;
	double v = strtod(arg, &end);
	if (!*arg || *end || !(v >= 0 && v <= 1))
		return usage_error(
		    "hunt",
		    "--min-score \"%s\" is not a score: give a number from 0 to 1, e.g. 0.5", arg);
	*min = v;
	return CLI_NEXT;
}

static void json_proc(struct strbuf *sb, const struct history *h, int32_t p, uint64_t t)
{
	if (p == PROC_NONE) {
		sb_adds(sb, "null");
		return;
	}
	const struct proc_image *im = history_image_at(h, p, t);
	sb_addf(sb, "{\"pid\":%d,\"guid\":", h->procs[p].pid);
	json_str(sb, history_guid(h, p));
	sb_adds(sb, ",\"exe\":");
	json_str_or_null(sb, im ? history_str(h, im->exe) : NULL);
	sb_adds(sb, ",\"cmdline\":");
	json_str_or_null(sb, im ? history_str(h, im->cmdline) : NULL);
	sb_addc(sb, '}');
}

void hunt_json(struct strbuf *sb, const struct history *h, const struct hunt_finding *f)
{
	char tb[TIME_TEXT_SIZE];
	sb_addf(sb, "{\"score\":%.3f,\"kind\":", f->score);
	json_str(sb, hunt_kind_name(f->kind));
	sb_adds(sb, ",\"reason\":");
	json_str(sb, f->reason ? f->reason : "");
	sb_adds(sb, ",\"first\":");
	json_str(sb, time_text(tb, sizeof(tb), f->first_ns));
	sb_adds(sb, ",\"last\":");
	json_str(sb, time_text(tb, sizeof(tb), f->last_ns));
	sb_adds(sb, ",\"process\":");
	json_proc(sb, h, f->proc, f->last_ns);
	sb_adds(sb, ",\"related\":");
	json_proc(sb, h, f->other, f->first_ns);
	sb_adds(sb, ",\"dst\":");
	if (f->dst_ip) {
		sb_adds(sb, "{\"ip\":");
		json_str(sb, ip_table_text(&h->ips, f->dst_ip));
		sb_addf(sb, ",\"port\":%d,\"proto\":\"%s\"}", f->dst_port, proto_name(f->proto));
	} else {
		sb_adds(sb, "null");
	}
	if (f->kind == HUNT_BEACON || f->kind == HUNT_BEACON_EXE)
		sb_addf(sb,
			",\"scores\":{\"beacon\":%.3f,\"timing\":%.3f,\"histogram\":%.3f,"
			"\"duration\":%.3f},\"connections\":%u",
			f->beacon, f->ts, f->hist, f->dur, f->connections);
	else
		sb_adds(sb, ",\"scores\":null,\"connections\":null");
	sb_adds(sb, ",\"records\":[");
	for (uint32_t i = 0; i < f->nrefs; i++) {
		const struct hunt_ref *r = &f->refs[i];
		sb_adds(sb, i ? ",{\"seq\":" : "{\"seq\":");
		json_int_or_null(sb, r->seq);
		sb_adds(sb, ",\"guid\":");
		json_str_or_null(sb, r->proc == PROC_NONE ? NULL : history_guid(h, r->proc));
		sb_adds(sb, ",\"time\":");
		json_str(sb, time_text(tb, sizeof(tb), r->time_ns));
		sb_addc(sb, '}');
	}
	sb_addf(sb, "],\"records_total\":%u}\n", f->nrefs_total);
}

static void finding_details(struct strbuf *sb, const struct history *h,
			    const struct hunt_finding *f)
{
	sb_adds(sb, "    why      ");
	sb_adds(sb, f->reason ? f->reason : "");
	sb_adds(sb, "\n    records  seq");
	for (uint32_t i = 0; i < f->nrefs; i++) {
		if (f->refs[i].seq >= 0)
			sb_addf(sb, " %lld", (long long)f->refs[i].seq);
		else
			sb_adds(sb, " ?");
	}
	if (f->nrefs_total > f->nrefs)
		sb_addf(sb, " ... (%u records, the first %u listed)", f->nrefs_total, f->nrefs);
	sb_addc(sb, '\n');
	/* the processes they name, each once */
	int shown = 0;
	for (uint32_t i = 0; i < f->nrefs && shown < 8; i++) {
		int32_t p = f->refs[i].proc;
		bool dup = p == PROC_NONE;
		for (uint32_t j = 0; j < i && !dup; j++)
			dup = f->refs[j].proc == p;
		if (dup)
			continue;
		sb_addf(sb, "    process  pid %d guid %s\n", h->procs[p].pid, history_guid(h, p));
		shown++;
	}
	if (f->other != PROC_NONE)
		sb_addf(sb, "    %-8s pid %d guid %s\n",
			f->kind == HUNT_INJECT		? "target"
			: f->kind == HUNT_SERVER_SHELL	? "server"
			: f->kind == HUNT_REVERSE_SHELL ? "via"
							: "ancestor",
			h->procs[f->other].pid, history_guid(h, f->other));
}

int cmd_hunt(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"min-score", required_argument, NULL, OPT_MIN_SCORE},
	    CLI_LONG_SINCE,
	    CLI_LONG_UNTIL,
	    CLI_LONG_JSON,
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "hunt", hunt_usage);
	double min_score = 0;
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT, longopts, hunt_option, &min_score);
	if (rc != CLI_NEXT)
		return rc;
	if ((rc = cli_no_operands(&cli)) || (rc = cli_check_window(&cli)))
		return rc;

	struct history h;
	struct hunt hu;
	hunt_init(&hu);
	if ((rc = cli_load(&cli, &h, HUNT_EVENTS, hunt_record, &hu)) < 0) {
		hunt_free(&hu);
		return 1;
	}
	hunt_run(&hu, &h, cli.since_ns, cli.until_ns);

	struct strbuf out = STRBUF_INIT;
	char t1[TIME_TEXT_SIZE], t2[TIME_TEXT_SIZE];
	static const char *const headers[] = {"SCORE", "KIND", "FIRST", "PID", "EXE"};
	struct table *t = cli.format == OUT_TABLE ? table_new(5, headers) : NULL;
	uint32_t shown = 0;
	for (uint32_t i = 0; i < hu.n; i++) {
		const struct hunt_finding *f = &hu.v[i];
		if (f->score < min_score)
			continue;
		shown++;
		if (!t) {
			hunt_json(&out, &h, f);
			if (out_flush(&out, stdout, false) < 0)
				break;
			continue;
		}
		char score[16], pid[16];
		snprintf(score, sizeof(score), "%.3f", f->score);
		snprintf(pid, sizeof(pid), "%d", f->proc == PROC_NONE ? -1 : h.procs[f->proc].pid);
		struct strbuf after = STRBUF_INIT;
		finding_details(&after, &h, f);
		const char *cells[] = {score, hunt_kind_name(f->kind),
				       time_text(t1, sizeof(t1), f->first_ns), pid,
				       f->exe ? history_str(&h, f->exe) : "-"};
		table_add(t, cells, sb_str(&after));
		sb_free(&after);
	}
	if (t) {
		sb_addf(&out, "window %s .. %s: %u finding%s\n",
			time_text(t1, sizeof(t1), hu.since_ns),
			time_text(t2, sizeof(t2), hu.until_ns), shown, shown == 1 ? "" : "s");
		if (shown)
			table_print(t, &out);
		table_free(t);
	}
	if (cli_flush(&cli, &out))
		rc = 1;
	sb_free(&out);
	hunt_free(&hu);
	history_free(&h);
	return rc;
}
