/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu who: which process made the flows that match a filter, and where
 * it came from. One pass over the log builds the process history and keeps
 * only the NET records that match; processes and ancestry are resolved at the
 * end, so a process's exit, logged after its flows, is known.
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
	    "  --json                JSON Lines, one object per flow (see docs/QUERY.md)\n"
	    "  --csv                 CSV with a header line\n"
	    "  -d, --log-dir DIR     the log directory (default " DEFAULT_LOG_DIR ")\n"
	    "  -h, --help            this help\n");
}

enum {
	OPT_DST = 256,
	OPT_SRC,
	OPT_PORT,
	OPT_PROTO,
	OPT_CID,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_PID,
	OPT_GUID,
	OPT_JSON,
	OPT_CSV,
};

struct who_state {
	const struct net_filter *filter;
};

static void who_record(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	struct who_state *st = arg;
	if (rec->event != OM_EVENT_NET)
		return;
	if (net_filter_match(h, st->filter, rec))
		history_keep_flow(h, rec, proc);
}

int cmd_who(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dst", required_argument, NULL, OPT_DST},
	    {"src", required_argument, NULL, OPT_SRC},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"proto", required_argument, NULL, OPT_PROTO},
	    {"community-id", required_argument, NULL, OPT_CID},
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"until", required_argument, NULL, OPT_UNTIL},
	    {"pid", required_argument, NULL, OPT_PID},
	    {"guid", required_argument, NULL, OPT_GUID},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"log-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_LOG_DIR;
	enum out_format format = OUT_TABLE;
	struct net_filter filter;
	net_filter_init(&filter);
	uint64_t now = now_unix_ns();
	char err[512];
	int c;
	options_reset();
	while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DST:
			if (parse_endpoint(optarg, &filter.dst, err, sizeof(err)) < 0)
				return usage_error("who", "--dst %s", err);
			filter.has_dst = true;
			break;
		case OPT_SRC:
			if (parse_endpoint(optarg, &filter.src, err, sizeof(err)) < 0)
				return usage_error("who", "--src %s", err);
			filter.has_src = true;
			break;
		case OPT_PORT:
			if (parse_port(optarg, &filter.port, err, sizeof(err)) < 0)
				return usage_error("who", "--port %s", err);
			filter.has_port = true;
			break;
		case OPT_PROTO:
			if (parse_proto(optarg, &filter.proto, err, sizeof(err)) < 0)
				return usage_error("who", "--proto %s", err);
			break;
		case OPT_CID:
			if (strncmp(optarg, "1:", 2) != 0 || !optarg[2])
				return usage_error(
				    "who",
				    "--community-id \"%s\" is not a Community ID: use "
				    "the \"1:...\" form a log or Zeek/Suricata shows",
				    optarg);
			filter.community_id = optarg;
			break;
		case OPT_SINCE:
			if (parse_time_arg(optarg, now, &filter.since_ns, err, sizeof(err)) < 0)
				return usage_error("who", "--since %s", err);
			break;
		case OPT_UNTIL:
			if (parse_time_arg(optarg, now, &filter.until_ns, err, sizeof(err)) < 0)
				return usage_error("who", "--until %s", err);
			break;
		case OPT_PID:
			filter.pid = log_field_num(optarg);
			if (filter.pid < 0 || filter.pid > INT32_MAX)
				return usage_error("who",
						   "--pid \"%s\" is not a process id: use a "
						   "number like 4242",
						   optarg);
			break;
		case OPT_GUID:
			if (!*optarg)
				return usage_error("who", "--guid needs a guid from the log");
			filter.guid = optarg;
			break;
		case OPT_JSON:
			format = OUT_JSON;
			break;
		case OPT_CSV:
			format = OUT_CSV;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			who_usage();
			return 0;
		default:
			return option_error("who", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("who",
				   "unexpected argument '%s' (filters are options, e.g. "
				   "--dst %s)",
				   argv[optind], argv[optind]);
	if (filter.since_ns > filter.until_ns)
		return usage_error("who", "--since is after --until: nothing can match");

	struct history h;
	history_init(&h);
	struct who_state st = {.filter = &filter};
	int rc = history_load(&h, dir, LOG_EVENT_BIT(OM_EVENT_NET), who_record, &st);
	if (rc && !h.records) {
		history_free(&h);
		return 1;
	}

	struct strbuf out = STRBUF_INIT;
	struct flow_answer *answers = calloc(h.nflows ? h.nflows : 1, sizeof(*answers));
	if (!answers)
		fatal("out of memory");
	for (uint32_t i = 0; i < h.nflows; i++) {
		flow_view_from_rec(&h, &h.flows[i], &answers[i].flow);
		answers[i].proc = h.flows[i].proc;
		answers[i].proc_time = h.flows[i].time_ns;
	}
	report_answers(&out, &h, answers, h.nflows, format, false);
	if (!h.nflows && format == OUT_TABLE)
		log_warnx("who: no flow in the log matches");
	if (out_flush(&out, stdout, true) < 0) {
		log_warn("who: writing the output failed");
		rc = 1;
	}
	sb_free(&out);
	free(answers);
	history_free(&h);
	return rc;
}
