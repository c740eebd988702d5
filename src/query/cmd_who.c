/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu who: which process made the flows that match a filter, and where
 * it came from. One pass over the log builds the process history and keeps
 * only the NET records that match; processes and ancestry are resolved at the
 * end, so a process's exit, logged after its flows, is known.
 */
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/convert.h"
#include "log/csv.h"
#include "log/record.h"
#include "query/cli.h"
#include "query/commands.h"
#include "query/dnsmap.h"
#include "query/filter.h"
#include "query/history.h"
#include "query/live.h"
#include "query/output.h"
#include "query/report.h"
#include "util/log.h"

static void who_usage(void)
{
	printf(
	    "usage: onmitsu who [FILTER...] [--json | --csv] [--log-dir DIR]\n"
	    "\n"
	    "List the flows (NET records) that match every FILTER given, each with the\n"
	    "process that made it and its ancestry up to the first ancestor the log knows.\n"
	    "\n"
	    "  --dst ADDR            destination: IP, IP:PORT, [IPV6]:PORT, :PORT, IP/PREFIX\n"
	    "  --src ADDR            source (the side that opened the flow), same forms\n"
	    "  --port P              either side's port\n"
	    "  --proto P             tcp, udp, icmp (and icmpv6) or icmpv6\n"
	    "  --community-id ID     the flow's Community ID, e.g. 1:LQU9qZlK+B5F3KDmev6m5PMibrg=\n"
	    "  --since T, --until T  UTC ISO 8601 (2026-11-25T19:13:17Z) or relative (-2h, -30m, "
	    "-1d)\n"
	    "  --pid N, --guid G     flows of this process\n"
	    "  --name PATTERN        flows to an address their process resolved from a name\n"
	    "                        matching PATTERN (a glob, any case: '*.example.com')\n"
	    "  -F, --follow          print each matching flow as it is recorded (from now,\n"
	    "                        or from --since), until interrupted\n"
	    "  --json                JSON Lines, one object per flow (see docs/QUERY.md)\n"
	    "  --csv                 CSV with a header line\n"
	    "  -d, --log-dir DIR     the log directory (default " DEFAULT_LOG_DIR ")\n"
	    "  -h, --help            this help\n");
}

enum {
	OPT_DST = CLI_OPT_OWN,
	OPT_SRC,
	OPT_PORT,
	OPT_PROTO,
	OPT_CID,
	OPT_NAME,
};

struct who_options {
	struct net_filter filter;
	const char *name; /* --name: a glob */
	bool follow;
};

struct who_state {
	const struct net_filter *filter;
	struct dns_map dns;
};

static void who_record(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	struct who_state *st = arg;
	if (rec->event == OM_EVENT_DNS) {
		/* whatever the filter: a name resolved before --since still names a flow */
		dns_map_add(&st->dns, h, rec, proc);
		return;
	}
	if (rec->event != OM_EVENT_NET)
		return;
	if (net_filter_match(h, st->filter, rec))
		history_keep_flow(h, rec, proc);
}

static int who_option(int c, const char *arg, void *ctx)
{
	struct who_options *o = ctx;
	struct net_filter *filter = &o->filter;
	char err[512];
	switch (c) {
	case 'F':
		o->follow = true;
		return CLI_NEXT;
	case OPT_NAME:
		if (!*arg)
			return usage_error("who", "--name needs a name or a glob, e.g. "
						  "'*.example.com'");
		o->name = arg;
		return CLI_NEXT;
	case OPT_DST:
		if (parse_endpoint(arg, &filter->dst, err, sizeof(err)) < 0)
			return usage_error("who", "--dst %s", err);
		filter->has_dst = true;
		return CLI_NEXT;
	case OPT_SRC:
		if (parse_endpoint(arg, &filter->src, err, sizeof(err)) < 0)
			return usage_error("who", "--src %s", err);
		filter->has_src = true;
		return CLI_NEXT;
	case OPT_PORT:
		if (parse_port(arg, &filter->port, err, sizeof(err)) < 0)
			return usage_error("who", "--port %s", err);
		filter->has_port = true;
		return CLI_NEXT;
	case OPT_PROTO:
		if (parse_proto(arg, &filter->proto, err, sizeof(err)) < 0)
			return usage_error("who", "--proto %s", err);
		return CLI_NEXT;
	case OPT_CID:
		if (strncmp(arg, "1:", 2) != 0 || !arg[2])
			return usage_error("who",
					   "--community-id \"%s\" is not a Community ID: use "
					   "the \"1:...\" form a log or Zeek/Suricata shows",
					   arg);
		filter->community_id = arg;
		return CLI_NEXT;
	case CLI_OPT_GUID:
		/* an empty guid would match the flows that name no process:
		 * only who, which filters on it, refuses it */
		if (!*arg)
			return usage_error("who", "--guid needs a guid from the log");
		return CLI_SHARED;
	default:
		return CLI_SHARED;
	}
}

/* ---- --follow ---- */

struct who_follow {
	struct live live;
	const struct who_options *opt;
	enum out_format format;
	bool first;
	struct strbuf out;
};

static enum om_event event_of(const char *name)
{
	for (int e = 0; e < OM_EVENT_COUNT; e++) {
		const char *n = om_event_name((enum om_event)e);
		if (n && strcmp(n, name) == 0)
			return (enum om_event)e;
	}
	return OM_EVENT_COUNT;
}

/* Each record as it comes: into the live table; a matching flow out at once. */
static int who_follow_line(const struct log_line *ln, void *arg)
{
	struct who_follow *w = arg;
	struct log_record rec;
	memset(&rec, 0, sizeof(rec));
	for (int c = 0; c < COL_COUNT; c++) {
		rec.f[c] = ln->f[c];
		rec.len[c] = ln->len[c];
	}
	enum om_event e = event_of(ln->f[COL_EVENT]);
	if (e == OM_EVENT_COUNT || csv_parse_time(ln->f[COL_TIME], &rec.time_ns) != 0)
		return 0; /* a kind this version does not know, or a damaged time */
	rec.event = (int)e;
	live_add(&w->live, &rec);
	if (e != OM_EVENT_NET || !net_filter_match(NULL, &w->opt->filter, &rec))
		return 0;

	struct flow_answer a;
	memset(&a, 0, sizeof(a));
	a.flow = (struct flow_view){
	    .proto = rec.f[COL_PROTO],
	    .src_ip = rec.f[COL_SRC_IP],
	    .dst_ip = rec.f[COL_DST_IP],
	    .src_port = (int32_t)log_record_num(&rec, COL_SRC_PORT),
	    .dst_port = (int32_t)log_record_num(&rec, COL_DST_PORT),
	    .direction = rec.f[COL_DIRECTION],
	    .result = rec.f[COL_RESULT],
	    .community_id = rec.f[COL_COMMUNITY_ID],
	    .time_ns = rec.time_ns,
	};
	if (a.flow.src_port > 65535)
		a.flow.src_port = -1;
	if (a.flow.dst_port > 65535)
		a.flow.dst_port = -1;
	a.proc_time = rec.time_ns;
	struct history h;
	a.proc = live_history(&w->live, rec.f[COL_GUID], rec.len[COL_GUID], rec.f[COL_DST_IP],
			      strcmp(rec.f[COL_DIRECTION], "in") != 0, &h, &a.dns);
	int rc = 0;
	if (!w->opt->name ||
	    (a.dns.from == DNS_FROM_PROCESS &&
	     fnmatch(w->opt->name, history_str(&h, a.dns.name), FNM_CASEFOLD) == 0)) {
		report_answer_live(&w->out, &h, &a, w->format, w->first);
		w->first = false;
		/* whole, at once: a reader acts on each flow as it comes */
		if (out_flush(&w->out, stdout, true) < 0 || fflush(stdout) != 0)
			rc = 1; /* the reader went away: done */
	}
	history_free(&h);
	return rc;
}

static volatile sig_atomic_t who_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	who_stop = 1;
}

/* Until SIGINT or SIGTERM (exit 0), or until the reader of the output goes
 * away (SIGPIPE ignored: the write fails, exit 0 quietly). */
static int who_follow(const struct cli *cli, const struct who_options *opt)
{
	struct who_follow w = {.opt = opt, .format = cli->format, .first = true};
	live_init(&w.live);
	struct follow_signals sigs;
	follow_signals_install(&sigs, on_stop_signal);
	who_stop = 0;
	/* the whole log is read (the processes of the flows to come may have
	 * started long ago); flows are printed from filter.since_ns */
	int rc = log_follow_each(cli->dir, NULL, who_follow_line, &w, &who_stop);
	follow_signals_restore(&sigs);
	sb_free(&w.out);
	live_free(&w.live);
	return rc;
}

int cmd_who(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dst", required_argument, NULL, OPT_DST},
	    {"src", required_argument, NULL, OPT_SRC},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"proto", required_argument, NULL, OPT_PROTO},
	    {"community-id", required_argument, NULL, OPT_CID},
	    {"name", required_argument, NULL, OPT_NAME},
	    CLI_LONG_SINCE,
	    CLI_LONG_UNTIL,
	    CLI_LONG_PID,
	    CLI_LONG_GUID,
	    CLI_LONG_JSON,
	    CLI_LONG_CSV,
	    {"follow", no_argument, NULL, 'F'},
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "who", who_usage);
	struct who_options opt = {.name = NULL};
	net_filter_init(&opt.filter);
	struct net_filter *filter = &opt.filter;
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT "F", longopts, who_option, &opt);
	if (rc != CLI_NEXT)
		return rc;
	if (cli.noperands)
		return usage_error("who",
				   "unexpected argument '%s' (filters are options, e.g. "
				   "--dst %s)",
				   cli.operands[0], cli.operands[0]);
	if ((rc = cli_check_window(&cli)))
		return rc;
	filter->since_ns = cli.since_ns;
	filter->until_ns = cli.until_ns;
	filter->pid = cli.pid;
	filter->guid = cli.guid;
	if (opt.follow) {
		if (cli.until_ns != UINT64_MAX)
			return usage_error("who",
					   "--until cannot end --follow: it follows until "
					   "interrupted (drop --until, or leave out --follow)");
		if (!cli.since_ns)
			filter->since_ns = cli.now_ns; /* from now on */
		return who_follow(&cli, &opt);
	}

	struct history h;
	struct who_state st = {.filter = filter};
	dns_map_init(&st.dns);
	if ((rc = cli_load(&cli, &h, LOG_EVENT_BIT(OM_EVENT_NET) | LOG_EVENT_BIT(OM_EVENT_DNS),
			   who_record, &st)) < 0) {
		dns_map_free(&st.dns);
		return 1;
	}
	dns_map_index(&st.dns);

	struct strbuf out = STRBUF_INIT;
	struct flow_answer *answers = calloc(h.nflows ? h.nflows : 1, sizeof(*answers));
	if (!answers)
		fatal("out of memory");
	size_t n = 0;
	for (uint32_t i = 0; i < h.nflows; i++) {
		const struct flow_rec *f = &h.flows[i];
		struct flow_answer *a = &answers[n];
		flow_view_from_rec(&h, f, &a->flow);
		a->proc = f->proc;
		a->proc_time = f->time_ns;
		if (f->direction != DIR_IN)
			a->dns = dns_map_lookup(&st.dns, f->dst_ip, f->proc, f->time_ns);
		/* --name: the name the flow's own process resolved */
		if (opt.name &&
		    !(a->dns.from == DNS_FROM_PROCESS &&
		      fnmatch(opt.name, history_str(&h, a->dns.name), FNM_CASEFOLD) == 0))
			continue;
		n++;
	}
	report_answers(&out, &h, answers, n, cli.format, false);
	if (!n && cli.format == OUT_TABLE)
		log_warnx("who: no flow in the log matches");
	if (cli_flush(&cli, &out))
		rc = 1;
	sb_free(&out);
	free(answers);
	dns_map_free(&st.dns);
	history_free(&h);
	return rc;
}
