/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu correlate FILE: attribute every flow of a packet capture to the
 * process on this host that owned it.
 *
 * A captured flow is matched to the NET records with the same protocol,
 * addresses and ports, in either orientation (the recorder writes the
 * initiator as the source; the capture's first packet may be either side for
 * UDP). Among those, the one nearest in time to the flow's first packet wins,
 * within CORRELATE_WINDOW_S either way, an initiator's ("out") record before
 * an acceptor's ("in") when both ends are on this host: a port reused later by another process
 * has a record of its own, nearer to its own packets. A flow whose handshake
 * the capture missed (mid-stream) takes the latest record at or before it
 * (plus the window), however old: the connection was opened before the
 * capture saw it.
 *
 * Flows left over are listed as unattributed, with the reason when known:
 * there is no log to read, or it holds no record ("no log covers this time"),
 * neither address is one the log has seen as this host's ("not this host"),
 * the packet is from before the log's first record or after its last, or
 * from a time the recorder was stopped; else "no matching record".
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/capture.h"
#include "query/cli.h"
#include "query/commands.h"
#include "query/dnsmap.h"
#include "query/filter.h"
#include "query/history.h"
#include "query/output.h"
#include "query/report.h"
#include "util/log.h"

/* Clock skew and delay between the recorder's record and the capture's first
 * packet that still count as the same flow. */
#define CORRELATE_WINDOW_S 120

static void correlate_usage(void)
{
	printf("usage: onmitsu correlate [--window S] [--unattributed] [--json | --csv]\n"
	       "                         [--log-dir DIR] CAPTURE\n"
	       "\n"
	       "Attribute every flow of a pcap or pcapng capture to the process that owned\n"
	       "it, by 5-tuple and time, with its ancestry; list flows nobody on this host\n"
	       "owned with the reason when known. Ends with a summary line.\n"
	       "\n"
	       "  --window S          seconds between a flow's first packet and its NET record\n"
	       "                      that still match (default %d)\n"
	       "  --unattributed      list only the flows without an owner\n"
	       "  --json              JSON Lines, one object per flow (see docs/QUERY.md)\n"
	       "  --csv               CSV with a header line\n"
	       "  -d, --log-dir DIR   the log directory (default " DEFAULT_LOG_DIR ")\n"
	       "  -h, --help          this help\n",
	       CORRELATE_WINDOW_S);
}

enum { OPT_WINDOW = CLI_OPT_OWN, OPT_UNATTRIBUTED };

/* One NET record in the lookup index: its endpoints in a fixed order. */
struct net_entry {
	uint64_t k1, k2;
	uint64_t time_ns;
	uint32_t flow; /* index in history.flows */
};

struct correlate_state {
	uint64_t from_ns, to_ns; /* keep NET records in this span only */
	struct dns_map dns;	 /* every DNS answer: names for the flows */
};

static void keep_net(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	struct correlate_state *st = arg;
	if (rec->event == OM_EVENT_DNS) {
		dns_map_add(&st->dns, h, rec, proc);
		return;
	}
	if (rec->event != OM_EVENT_NET)
		return;
	/* this host's addresses, from the whole log: for "not this host" */
	history_note_local(h, rec);
	if (rec->time_ns < st->from_ns || rec->time_ns > st->to_ns)
		return;
	history_keep_flow(h, rec, proc);
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* ICMP records carry type/code in their ports; match ICMP on addresses only */
static void make_key(uint8_t proto, uint32_t ip_a, int32_t port_a, uint32_t ip_b, int32_t port_b,
		     uint64_t *k1, uint64_t *k2)
{
	if (is_icmp(proto))
		port_a = port_b = 0;
	uint16_t pa = (uint16_t)(port_a < 0 ? 0 : port_a), pb = (uint16_t)(port_b < 0 ? 0 : port_b);
	if (ip_a > ip_b || (ip_a == ip_b && pa > pb)) {
		uint32_t x = ip_a;
		ip_a = ip_b;
		ip_b = x;
		uint16_t y = pa;
		pa = pb;
		pb = y;
	}
	*k1 = (uint64_t)proto << 48 | (uint64_t)pa << 32 | ip_a;
	*k2 = (uint64_t)pb << 32 | ip_b;
}

static int compare_entries(const void *pa, const void *pb)
{
	const struct net_entry *a = pa, *b = pb;
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	if (a->time_ns != b->time_ns)
		return a->time_ns < b->time_ns ? -1 : 1;
	return a->flow < b->flow ? -1 : a->flow > b->flow;
}

static size_t lower_bound(const struct net_entry *e, size_t n, uint64_t k1, uint64_t k2)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e[mid].k1 < k1 || (e[mid].k1 == k1 && e[mid].k2 < k2))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t abs_diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

struct attribution {
	int64_t flow;	     /* index in history.flows, -1 */
	uint64_t nearest_ns; /* with no match: how far the nearest same-tuple record was */
	bool any_same_tuple;
};

static struct attribution attribute(const struct history *h, const struct net_entry *index,
				    size_t n, const struct capture_flow *cf, uint64_t window_ns)
{
	struct attribution a = {.flow = -1};
	const struct pkt_tuple *t = &cf->first;
	uint32_t ip_s = ip_table_find(&h->ips, &t->src), ip_d = ip_table_find(&h->ips, &t->dst);
	if (!ip_s || !ip_d)
		return a;
	uint64_t k1, k2;
	make_key(t->proto, ip_s, t->sport, ip_d, t->dport, &k1, &k2);
	uint64_t best = UINT64_MAX, best_out = UINT64_MAX;
	int64_t flow_out = -1;
	for (size_t i = lower_bound(index, n, k1, k2);
	     i < n && index[i].k1 == k1 && index[i].k2 == k2; i++) {
		uint64_t rt = index[i].time_ns, d = abs_diff(rt, cf->time_ns);
		a.any_same_tuple = true;
		if (d < a.nearest_ns || !a.nearest_ns)
			a.nearest_ns = d;
		if (cf->mid_stream) {
			/* the latest opened before we saw it (the index is in time order) */
			if (rt <= cf->time_ns + window_ns)
				a.flow = index[i].flow;
			continue;
		}
		if (d > window_ns)
			continue;
		/* When both ends are processes of this host (loopback, containers),
		 * the flow has two records: the initiator's "out" and the
		 * acceptor's "in". The flow belongs to the one that opened it. */
		bool out = h->flows[index[i].flow].direction == DIR_OUT;
		if (out && d < best_out) {
			best_out = d;
			flow_out = index[i].flow;
		}
		if (d < best) {
			best = d;
			a.flow = index[i].flow;
		}
	}
	if (!cf->mid_stream && flow_out >= 0)
		a.flow = flow_out;
	return a;
}

static bool is_local(const struct history *h, const struct ipaddr *addr)
{
	uint32_t id = ip_table_find(&h->ips, addr);
	return id && id < h->local_ip_cap && h->local_ip[id];
}

static bool any_local(const struct history *h)
{
	for (uint32_t i = 0; i < h->local_ip_cap; i++)
		if (h->local_ip[i])
			return true;
	return false;
}

static const char *why_unattributed(const struct history *h, const struct capture_flow *cf,
				    const struct attribution *a, uint64_t window_ns, char *buf,
				    size_t size)
{
	const struct pkt_tuple *t = &cf->first;
	if (!h->records)
		return "no log covers this time";
	if (any_local(h) && !is_local(h, &t->src) && !is_local(h, &t->dst))
		return "not this host (neither address is one the log has seen as this host's)";
	if (cf->time_ns + window_ns < h->first_ns)
		return "before the log starts";
	if (cf->time_ns > h->last_ns + window_ns)
		return "after the log ends";
	if (!history_recording_at(h, cf->time_ns, 0))
		return "the recorder was not running then";
	if (a->any_same_tuple) {
		snprintf(
		    buf, size,
		    "no matching record within %llu s (the nearest with this 5-tuple is %.0f s "
		    "away)",
		    (unsigned long long)(window_ns / 1000000000ull), (double)a->nearest_ns / 1e9);
		return buf;
	}
	return "no matching record";
}

struct correlate_options {
	uint64_t window_s;
	bool only_unattributed;
};

static int correlate_option(int c, const char *arg, void *ctx)
{
	struct correlate_options *o = ctx;
	switch (c) {
	case OPT_WINDOW: {
		int64_t v = log_field_num(arg);
		if (v < 0 || v > 86400)
			return usage_error("correlate",
					   "--window \"%s\" is not a number of seconds from "
					   "0 to 86400",
					   arg);
		o->window_s = (uint64_t)v;
		return CLI_NEXT;
	}
	case OPT_UNATTRIBUTED:
		o->only_unattributed = true;
		return CLI_NEXT;
	default:
		return CLI_SHARED;
	}
}

/* The log's flows sorted by key and time, for attribute()'s binary search. */
static struct net_entry *index_flows(const struct history *h)
{
	struct net_entry *index = malloc((h->nflows ? h->nflows : 1) * sizeof(*index));
	if (!index)
		fatal("out of memory");
	for (uint32_t i = 0; i < h->nflows; i++) {
		const struct flow_rec *f = &h->flows[i];
		make_key(f->proto, f->src_ip, f->src_port, f->dst_ip, f->dst_port, &index[i].k1,
			 &index[i].k2);
		index[i].time_ns = f->time_ns;
		index[i].flow = i;
	}
	qsort(index, h->nflows, sizeof(*index), compare_entries);
	return index;
}

/* Scratch text for one answer: its two addresses and why it is unattributed. */
struct answer_text {
	char src[64], dst[64];
	char reason[256];
};

/*
 * One capture flow's answer: the NET record that explains it (its process,
 * direction, result and time offset) or why none does. Returns true when a
 * process was found; *ans is filled either way.
 */
static bool answer_flow(const struct history *h, const struct net_entry *index,
			const struct capture_flow *cf, uint64_t window_ns, struct flow_answer *ans,
			struct answer_text *t)
{
	struct attribution a = attribute(h, index, h->nflows, cf, window_ns);
	memset(ans, 0, sizeof(*ans));
	struct flow_view *v = &ans->flow;
	v->proto = proto_name(cf->first.proto);
	v->src_ip = ipaddr_format(&cf->first.src, t->src, sizeof(t->src));
	v->dst_ip = ipaddr_format(&cf->first.dst, t->dst, sizeof(t->dst));
	v->src_port = cf->first.sport;
	v->dst_port = cf->first.dport;
	v->direction = "";
	v->result = "";
	v->community_id = cf->community_id;
	v->time_ns = cf->time_ns;
	ans->proc = PROC_NONE;
	if (a.flow < 0) {
		ans->reason = why_unattributed(h, cf, &a, window_ns, t->reason, sizeof(t->reason));
		return false;
	}
	const struct flow_rec *fr = &h->flows[a.flow];
	ans->proc = fr->proc;
	ans->proc_time = fr->time_ns;
	ans->has_delta = true;
	ans->delta_ns = (int64_t)fr->time_ns - (int64_t)cf->time_ns;
	v->direction = fr->direction == DIR_OUT ? "out" : fr->direction == DIR_IN ? "in" : "";
	v->result = history_str(h, fr->result);
	if (cf->mid_stream && ip_table_find(&h->ips, &cf->first.src) != fr->src_ip) {
		/* show it the way it was opened, as the record says */
		const char *x = v->src_ip;
		v->src_ip = v->dst_ip;
		v->dst_ip = x;
		v->src_port = cf->first.dport;
		v->dst_port = cf->first.sport;
		if (cf->first.proto == IPPROTO_ICMP || cf->first.proto == IPPROTO_ICMPV6) {
			/* what the log writes in the port columns for ICMP: type and code */
			v->src_port = cf->first.sport;
			v->dst_port = cf->first.dport;
		}
	}
	if (fr->proc == PROC_NONE)
		ans->reason = "its NET record has no owner (a socket opened before "
			      "the recorder started)";
	return fr->proc != PROC_NONE;
}

/* The name the flow's destination was resolved from: by its process when
 * attributed (at its NET record's time), else by anyone on the host before
 * the first packet. */
static void answer_dns(const struct history *h, const struct dns_map *dns,
		       const struct capture_flow *cf, struct flow_answer *ans)
{
	if (strcmp(ans->flow.direction, "in") == 0)
		return;
	struct ipaddr dst;
	if (ipaddr_parse(ans->flow.dst_ip, strlen(ans->flow.dst_ip), &dst) != 0)
		return;
	uint64_t t = ans->has_delta ? ans->proc_time : cf->time_ns;
	ans->dns = dns_map_lookup(dns, ip_table_find(&h->ips, &dst), ans->proc, t);
}

int cmd_correlate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_LONG_JSON,
	    CLI_LONG_CSV,
	    {"window", required_argument, NULL, OPT_WINDOW},
	    {"unattributed", no_argument, NULL, OPT_UNATTRIBUTED},
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "correlate", correlate_usage);
	struct correlate_options opt = {.window_s = CORRELATE_WINDOW_S};
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT, longopts, correlate_option, &opt);
	if (rc != CLI_NEXT)
		return rc;
	if (cli.noperands != 1)
		return usage_error("correlate", cli.noperands == 0 ? "name the capture file to read"
								   : "give one capture file");
	const char *path = cli.operands[0];
	uint64_t window_ns = opt.window_s * 1000000000ull;

	char err[1024];
	struct capture cap;
	rc = 0;
	int crc = capture_read(path, &cap, err, sizeof(err));
	if (crc < 0) {
		log_warnx("correlate: %s", err);
		capture_free(&cap);
		return 1;
	}
	if (crc > 0)
		rc = 1; /* reported after the results, which are still useful */

	struct history h;
	struct correlate_state st = {
	    .from_ns = cap.first_ns > window_ns ? cap.first_ns - window_ns : 0,
	    .to_ns = cap.last_ns + window_ns,
	};
	/* mid-stream flows may match a record opened long before the capture */
	for (size_t i = 0; i < cap.nflows; i++)
		if (cap.flows[i].mid_stream)
			st.from_ns = 0;
	dns_map_init(&st.dns);
	int lrc = cli_load(&cli, &h, LOG_EVENT_BIT(OM_EVENT_NET) | LOG_EVENT_BIT(OM_EVENT_DNS),
			   keep_net, &st);
	if (lrc < 0) {
		/* no log (the reason is printed): the capture's flows are still
		 * worth listing, with their Community IDs, to look up elsewhere */
		history_init(&h);
		rc = 1;
	}
	if (lrc > 0)
		rc = 1;
	dns_map_index(&st.dns);

	struct net_entry *index = index_flows(&h);
	struct flow_answer *answers = calloc(cap.nflows ? cap.nflows : 1, sizeof(*answers));
	struct answer_text *texts = calloc(cap.nflows ? cap.nflows : 1, sizeof(*texts));
	if (!answers || !texts)
		fatal("out of memory");
	size_t attributed = 0, shown = 0;
	for (size_t i = 0; i < cap.nflows; i++) {
		bool found =
		    answer_flow(&h, index, &cap.flows[i], window_ns, &answers[shown], &texts[i]);
		answer_dns(&h, &st.dns, &cap.flows[i], &answers[shown]);
		attributed += found;
		if (!(found && opt.only_unattributed))
			shown++;
	}

	struct strbuf out = STRBUF_INIT;
	report_answers(&out, &h, answers, shown, cli.format, true);
	char summary[160];
	snprintf(summary, sizeof(summary), "flows seen %zu, attributed %zu, unattributed %zu\n",
		 cap.nflows, attributed, cap.nflows - attributed);
	/* the summary ends the table; machine formats keep stdout pure */
	if (cli.format == OUT_TABLE)
		sb_adds(&out, summary);
	if (cli_flush(&cli, &out))
		rc = 1;
	if (cli.format != OUT_TABLE)
		fputs(summary, stderr);
	if (crc > 0)
		log_warnx("correlate: %s", err);

	sb_free(&out);
	free(answers);
	free(texts);
	free(index);
	dns_map_free(&st.dns);
	history_free(&h);
	capture_free(&cap);
	return rc;
}
