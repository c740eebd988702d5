/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

void flow_view_from_rec(const struct history *h, const struct flow_rec *f, struct flow_view *v)
{
	v->proto = history_str(h, f->proto_text);
	v->src_ip = ip_table_text(&h->ips, f->src_ip);
	v->dst_ip = ip_table_text(&h->ips, f->dst_ip);
	v->src_port = f->src_port;
	v->dst_port = f->dst_port;
	v->direction = f->direction == DIR_OUT ? "out" : f->direction == DIR_IN ? "in" : "";
	v->result = history_str(h, f->result);
	v->community_id = history_str(h, f->community_id);
	v->time_ns = f->time_ns;
}

/* "ADDR:PORT", "[ADDR]:PORT" for IPv6, "ADDR" without a port */
static const char *endpoint_text(char *buf, size_t size, const char *ip, int32_t port)
{
	bool v6 = strchr(ip, ':') != NULL;
	if (port < 0)
		snprintf(buf, size, "%s", *ip ? ip : "?");
	else if (v6)
		snprintf(buf, size, "[%s]:%d", ip, port);
	else
		snprintf(buf, size, "%s:%d", *ip ? ip : "?", port);
	return buf;
}

void flow_text(struct strbuf *out, const char *proto, const char *src_ip, int64_t src_port,
	       const char *dst_ip, int64_t dst_port, const char *direction, const char *result)
{
	char src[80], dst[80];
	bool icmp = strncmp(proto, "icmp", 4) == 0;
	sb_addf(out, "%s %s -> %s", proto,
		endpoint_text(src, sizeof(src), src_ip, icmp ? -1 : (int32_t)src_port),
		endpoint_text(dst, sizeof(dst), dst_ip, icmp ? -1 : (int32_t)dst_port));
	if (icmp)
		sb_addf(out, " type %lld code %lld", (long long)src_port, (long long)dst_port);
	if (*direction)
		sb_addf(out, " %s", direction);
	if (*result)
		sb_addf(out, " %s", result);
}

/* An ancestor is shown as it was when it made the next one down the chain. */
static uint64_t birth_time(const struct history *h, int32_t child)
{
	const struct proc *c = &h->procs[child];
	return c->start_ns ? c->start_ns : c->first_seen_ns;
}

static const char *exe_at(const struct history *h, int32_t p, uint64_t t, const char **cmdline)
{
	const struct proc_image *im = history_image_at(h, p, t);
	*cmdline = im ? history_str(h, im->cmdline) : "";
	return im ? history_str(h, im->exe) : "";
}

/* The process's one-line description used in chains: "PID EXE (cmdline) guid" */
static void describe_proc(struct strbuf *out, const struct history *h, int32_t p, uint64_t t_ns)
{
	const char *cmdline;
	const char *exe = exe_at(h, p, t_ns, &cmdline);
	const struct proc *pr = &h->procs[p];
	if (pr->pid >= 0)
		sb_addf(out, "%d ", pr->pid);
	else
		sb_adds(out, "? ");
	sb_adds(out, *exe ? exe : "(exe unknown)");
	if (*cmdline && strcmp(cmdline, exe) != 0)
		sb_addf(out, "  (%s)", cmdline);
	sb_addf(out, "  guid %s", history_guid(h, p));
}

static void json_proc(struct strbuf *out, const struct history *h, int32_t p, uint64_t t,
		      bool with_uid)
{
	const struct proc *pr = &h->procs[p];
	const char *cmdline;
	const char *exe = exe_at(h, p, t, &cmdline);
	const struct proc_image *im = history_image_at(h, p, t);
	sb_adds(out, "{\"pid\":");
	json_int_or_null(out, pr->pid);
	sb_adds(out, ",\"guid\":");
	json_str_or_null(out, history_guid(h, p));
	sb_adds(out, ",\"exe\":");
	json_str_or_null(out, exe);
	sb_adds(out, ",\"cmdline\":");
	json_str_or_null(out, cmdline);
	if (with_uid) {
		/* the flow's own process: what it was */
		sb_adds(out, ",\"sha256\":");
		json_str_or_null(out, im ? history_str(h, im->sha256) : NULL);
		sb_adds(out, ",\"cgroup\":");
		json_str_or_null(out, im ? history_str(h, im->cgroup) : NULL);
		sb_adds(out, ",\"container_id\":");
		json_str_or_null(out, im ? history_str(h, im->container_id) : NULL);
		sb_adds(out, ",\"uid\":");
		json_int_or_null(out, pr->uid);
	}
	sb_addc(out, '}');
}

void report_injected_json(struct strbuf *out, const struct history *h, int32_t p, uint64_t until_ns)
{
	char t[TIME_TEXT_SIZE];
	struct inject_by *v;
	size_t n = history_injected_by(h, p, until_ns, &v);
	if (!n)
		return; /* the key is there only when someone did */
	sb_adds(out, ",\"injected_by\":[");
	for (size_t i = 0; i < n; i++) {
		const char *cmdline;
		if (i)
			sb_addc(out, ',');
		sb_adds(out, "{\"pid\":");
		json_int_or_null(out, v[i].actor == PROC_NONE ? -1 : h->procs[v[i].actor].pid);
		sb_adds(out, ",\"guid\":");
		json_str_or_null(out, v[i].actor == PROC_NONE ? NULL : history_guid(h, v[i].actor));
		sb_adds(out, ",\"exe\":");
		json_str_or_null(out, v[i].actor == PROC_NONE
					  ? NULL
					  : exe_at(h, v[i].actor, v[i].first_ns, &cmdline));
		sb_adds(out, ",\"method\":");
		json_str_or_null(out, history_str(h, v[i].method));
		sb_adds(out, ",\"time\":");
		json_str_or_null(out, time_text(t, sizeof(t), v[i].first_ns));
		sb_addf(out, ",\"count\":%llu}", (unsigned long long)v[i].count);
	}
	sb_addc(out, ']');
	free(v);
}

void report_image_csv(struct strbuf *out, const struct history *h, const struct proc_image *im)
{
	sb_addc(out, ',');
	csv_field(out, im ? history_str(h, im->sha256) : "");
	sb_addc(out, ',');
	csv_field(out, im ? history_str(h, im->cgroup) : "");
	sb_addc(out, ',');
	csv_field(out, im ? history_str(h, im->container_id) : "");
}

void report_injected_csv(struct strbuf *out, const struct history *h, int32_t p, uint64_t until_ns)
{
	struct inject_by *v;
	size_t n = history_injected_by(h, p, until_ns, &v);
	struct strbuf f = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		sb_adds(&f, i ? "; " : "");
		sb_adds(&f, history_str(h, v[i].method));
		sb_addc(&f, ':');
		if (v[i].actor != PROC_NONE) {
			sb_addf(&f, "%d:", (int)h->procs[v[i].actor].pid);
			sb_adds(&f, history_guid(h, v[i].actor));
		} else {
			sb_addc(&f, ':');
		}
		sb_addf(&f, ":%llu", (unsigned long long)v[i].count);
	}
	csv_field(out, sb_str(&f));
	sb_free(&f);
	free(v);
}

void report_injected_lines(struct strbuf *out, const struct history *h, int32_t p,
			   uint64_t until_ns, const char *indent)
{
	char t[TIME_TEXT_SIZE];
	struct inject_by *v;
	size_t n = history_injected_by(h, p, until_ns, &v);
	for (size_t i = 0; i < n; i++) {
		sb_addf(out, "%sinjected  %s by ", indent, history_str(h, v[i].method));
		if (v[i].actor == PROC_NONE)
			sb_adds(out, "(a process the log does not name)");
		else
			describe_proc(out, h, v[i].actor, v[i].first_ns);
		sb_addf(out, "  at %s", time_text(t, sizeof(t), v[i].first_ns));
		if (v[i].count > 1)
			sb_addf(out, "  (%llu times)", (unsigned long long)v[i].count);
		sb_addc(out, '\n');
	}
	free(v);
}

static void report_json(struct strbuf *out, const struct history *h, const struct flow_answer *a)
{
	char t[TIME_TEXT_SIZE];
	const struct flow_view *f = &a->flow;
	sb_adds(out, "{\"flow\":{\"proto\":");
	json_str_or_null(out, f->proto);
	sb_adds(out, ",\"src_ip\":");
	json_str_or_null(out, f->src_ip);
	sb_adds(out, ",\"src_port\":");
	json_int_or_null(out, f->src_port);
	sb_adds(out, ",\"dst_ip\":");
	json_str_or_null(out, f->dst_ip);
	sb_adds(out, ",\"dst_port\":");
	json_int_or_null(out, f->dst_port);
	sb_adds(out, ",\"community_id\":");
	json_str_or_null(out, f->community_id);
	sb_adds(out, ",\"time\":");
	json_str_or_null(out, time_text(t, sizeof(t), f->time_ns));
	sb_adds(out, ",\"dns_name\":");
	json_str_or_null(out, a->dns.from ? history_str(h, a->dns.name) : NULL);
	sb_adds(out, ",\"dns_name_from\":");
	json_str_or_null(out, dns_from_name(a->dns.from));
	sb_adds(out, "},\"process\":");
	if (a->proc == PROC_NONE)
		sb_adds(out, "null");
	else
		json_proc(out, h, a->proc, a->proc_time, true);
	sb_adds(out, ",\"ancestry\":[");
	int32_t chain[HISTORY_MAX_DEPTH];
	int n = history_ancestry(h, a->proc, chain, HISTORY_MAX_DEPTH);
	for (int i = 0; i < n; i++) {
		if (i)
			sb_addc(out, ',');
		json_proc(out, h, chain[i], birth_time(h, i ? chain[i - 1] : a->proc), false);
	}
	sb_addc(out, ']');
	report_injected_json(out, h, a->proc, a->flow.time_ns);
	if (a->reason) {
		sb_adds(out, ",\"reason\":");
		json_str(out, a->reason);
	}
	sb_adds(out, "}\n");
}

static const char *const csv_cols[] = {
    "time",	"proto",       "src_ip",	"src_port",	  "dst_ip",
    "dst_port", "direction",   "result",	"community_id",	  "pid",
    "guid",	"uid",	       "exe",		"cmdline",	  "start",
    "exit",	"exit_result", "ancestry_pids", "ancestry_guids", "ancestry_exes",
};

static void report_csv_header(struct strbuf *out, bool correlate)
{
	for (size_t i = 0; i < sizeof(csv_cols) / sizeof(csv_cols[0]); i++) {
		if (i)
			sb_addc(out, ',');
		sb_adds(out, csv_cols[i]);
	}
	if (correlate)
		sb_adds(out, ",reason,record_delta_s");
	sb_adds(out, ",dns_name,dns_name_from,sha256,cgroup,container_id,injected_by");
	sb_addc(out, '\n');
}

static void report_csv(struct strbuf *out, const struct history *h, const struct flow_answer *a,
		       bool correlate)
{
	char t[TIME_TEXT_SIZE];
	const struct flow_view *f = &a->flow;
	csv_field(out, time_text(t, sizeof(t), f->time_ns));
	sb_addc(out, ',');
	csv_field(out, f->proto);
	sb_addc(out, ',');
	csv_field(out, f->src_ip);
	sb_addc(out, ',');
	csv_int(out, f->src_port);
	sb_addc(out, ',');
	csv_field(out, f->dst_ip);
	sb_addc(out, ',');
	csv_int(out, f->dst_port);
	sb_addc(out, ',');
	csv_field(out, f->direction);
	sb_addc(out, ',');
	csv_field(out, f->result);
	sb_addc(out, ',');
	csv_field(out, f->community_id);
	sb_addc(out, ',');
	int32_t chain[HISTORY_MAX_DEPTH];
	int n = 0;
	if (a->proc != PROC_NONE) {
		const struct proc *pr = &h->procs[a->proc];
		const char *cmdline;
		const char *exe = exe_at(h, a->proc, a->proc_time, &cmdline);
		csv_int(out, pr->pid);
		sb_addc(out, ',');
		csv_field(out, history_guid(h, a->proc));
		sb_addc(out, ',');
		csv_int(out, pr->uid);
		sb_addc(out, ',');
		csv_field(out, exe);
		sb_addc(out, ',');
		csv_field(out, cmdline);
		sb_addc(out, ',');
		csv_field(out, time_text(t, sizeof(t), pr->start_ns));
		sb_addc(out, ',');
		csv_field(out, time_text(t, sizeof(t), pr->exit_ns));
		sb_addc(out, ',');
		csv_field(out, history_str(h, pr->exit_result));
		sb_addc(out, ',');
		n = history_ancestry(h, a->proc, chain, HISTORY_MAX_DEPTH);
	} else {
		sb_adds(out, ",,,,,,,,");
	}
	/* three parallel lists, " < " between ancestors (parent first) */
	struct strbuf pids = STRBUF_INIT, guids = STRBUF_INIT, exes = STRBUF_INIT;
	for (int i = 0; i < n; i++) {
		const char *cmdline;
		const char *sep = i ? " < " : "";
		sb_adds(&pids, sep);
		sb_adds(&guids, sep);
		sb_adds(&exes, sep);
		csv_int(&pids, h->procs[chain[i]].pid);
		sb_adds(&guids, history_guid(h, chain[i]));
		sb_adds(&exes,
			exe_at(h, chain[i], birth_time(h, i ? chain[i - 1] : a->proc), &cmdline));
	}
	csv_field(out, sb_str(&pids));
	sb_addc(out, ',');
	csv_field(out, sb_str(&guids));
	sb_addc(out, ',');
	csv_field(out, sb_str(&exes));
	sb_free(&pids);
	sb_free(&guids);
	sb_free(&exes);
	if (correlate) {
		sb_addc(out, ',');
		csv_field(out, a->reason ? a->reason : "");
		sb_addc(out, ',');
		if (a->has_delta)
			sb_addf(out, "%.6f", (double)a->delta_ns / 1e9);
	}
	sb_addc(out, ',');
	csv_field(out, a->dns.from ? history_str(h, a->dns.name) : "");
	sb_addc(out, ',');
	csv_field(out, a->dns.from ? dns_from_name(a->dns.from) : "");
	/* what the flow's process was, and who acted on it before the flow */
	const struct proc_image *im =
	    a->proc != PROC_NONE ? history_image_at(h, a->proc, a->proc_time) : NULL;
	report_image_csv(out, h, im);
	sb_addc(out, ',');
	if (a->proc != PROC_NONE)
		report_injected_csv(out, h, a->proc, f->time_ns);
	sb_addc(out, '\n');
}

/* "    dns       NAME (resolved by this process at T | on this host by PID EXE at T)" */
static void dns_details(struct strbuf *out, const struct history *h, const struct flow_answer *a)
{
	char t1[TIME_TEXT_SIZE];
	if (!a->dns.from)
		return;
	sb_addf(out, "    dns       %s  (", history_str(h, a->dns.name));
	if (a->dns.from == DNS_FROM_PROCESS) {
		sb_adds(out, "resolved by this process");
	} else if (a->dns.proc != PROC_NONE) {
		const char *cmdline;
		const char *exe = exe_at(h, a->dns.proc, a->dns.time_ns, &cmdline);
		sb_adds(out, "resolved on this host by ");
		if (h->procs[a->dns.proc].pid >= 0)
			sb_addf(out, "%d ", h->procs[a->dns.proc].pid);
		sb_adds(out, *exe ? exe : "(exe unknown)");
	} else {
		sb_adds(out, "resolved on this host");
	}
	sb_addf(out, " at %s)\n", time_text(t1, sizeof(t1), a->dns.time_ns));
}

static void details(struct strbuf *out, const struct history *h, const struct flow_answer *a)
{
	char t1[TIME_TEXT_SIZE];
	dns_details(out, h, a);
	if (a->proc == PROC_NONE) {
		if (a->reason)
			sb_addf(out, "    unattributed: %s\n", a->reason);
		else
			sb_adds(out, "    the record names no process: its socket was opened "
				     "before the recorder started\n");
		return;
	}
	const struct proc *pr = &h->procs[a->proc];
	const char *cmdline;
	exe_at(h, a->proc, a->proc_time, &cmdline);
	if (*cmdline)
		sb_addf(out, "    cmdline   %s\n", cmdline);
	const struct proc_image *im = history_image_at(h, a->proc, a->proc_time);
	if (im && im->sha256)
		sb_addf(out, "    sha256    %s\n", history_str(h, im->sha256));
	if (im && im->container_id)
		sb_addf(out, "    container %s  cgroup %s\n", history_str(h, im->container_id),
			history_str(h, im->cgroup));
	else if (im && im->cgroup)
		sb_addf(out, "    cgroup    %s\n", history_str(h, im->cgroup));
	sb_addf(out, "    process   guid %s", history_guid(h, a->proc));
	if (pr->uid >= 0)
		sb_addf(out, "  uid %lld", (long long)pr->uid);
	if (pr->start_ns)
		sb_addf(out, "  %s %s", pr->origin == ORIGIN_EXISTING ? "running at" : "started",
			time_text(t1, sizeof(t1), pr->start_ns));
	if (pr->exit_ns)
		sb_addf(out, "  exited %s (%s)", time_text(t1, sizeof(t1), pr->exit_ns),
			*history_str(h, pr->exit_result) ? history_str(h, pr->exit_result) : "?");
	else if (pr->gone_ns)
		sb_addf(out, "  gone before %s (exit not recorded)",
			time_text(t1, sizeof(t1), pr->gone_ns));
	sb_addc(out, '\n');
	report_injected_lines(out, h, a->proc, a->flow.time_ns, "    ");
	if (a->has_delta)
		sb_addf(out, "    record    its NET record is %.6f s %s the packet\n",
			(double)(a->delta_ns < 0 ? -a->delta_ns : a->delta_ns) / 1e9,
			a->delta_ns < 0 ? "before" : "after");
	int32_t chain[HISTORY_MAX_DEPTH];
	int n = history_ancestry(h, a->proc, chain, HISTORY_MAX_DEPTH);
	if (n == 0) {
		sb_adds(out, "    ancestry  (no parent in the log)\n");
		return;
	}
	sb_adds(out, "    ancestry\n");
	for (int i = 0; i < n; i++) {
		sb_adds(out, "      ");
		for (int k = 0; k < i; k++)
			sb_adds(out, "   ");
		sb_adds(out, "\\_ ");
		describe_proc(out, h, chain[i], birth_time(h, i ? chain[i - 1] : a->proc));
		sb_addc(out, '\n');
	}
}

/* The aligned table of all answers, each followed by its process and chain. */
static void report_table(struct strbuf *out, const struct history *h, const struct flow_answer *a,
			 size_t n, bool correlate, const size_t *min_width, bool header)
{
	static const char *const headers[] = {"TIME", "PROTO",	"SOURCE", "DESTINATION",
					      "DIR",  "RESULT", "PID",	  "EXE"};
	struct table *t = table_new(8, headers);
	struct strbuf after = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		char tm[TIME_TEXT_SIZE], src[80], dst[80], pid[16];
		const struct flow_view *f = &a[i].flow;
		const char *exe = "-";
		const char *cmdline;
		snprintf(pid, sizeof(pid), "-");
		if (a[i].proc != PROC_NONE) {
			exe = exe_at(h, a[i].proc, a[i].proc_time, &cmdline);
			if (!*exe)
				exe = "(exe unknown)";
			if (h->procs[a[i].proc].pid >= 0)
				snprintf(pid, sizeof(pid), "%d", h->procs[a[i].proc].pid);
		} else {
			exe = correlate ? "(unattributed)" : "(owner unknown)";
		}
		/* ICMP's "ports" are its type and code */
		bool icmp = strncmp(f->proto, "icmp", 4) == 0;
		char proto[48];
		if (icmp && f->src_port >= 0)
			snprintf(proto, sizeof(proto), "%s %d/%d", f->proto, f->src_port,
				 f->dst_port);
		else
			snprintf(proto, sizeof(proto), "%s", f->proto);
		const char *cells[8] = {
		    time_text(tm, sizeof(tm), f->time_ns),
		    proto,
		    endpoint_text(src, sizeof(src), f->src_ip, icmp ? -1 : f->src_port),
		    endpoint_text(dst, sizeof(dst), f->dst_ip, icmp ? -1 : f->dst_port),
		    *f->direction ? f->direction : "-",
		    *f->result ? f->result : "-",
		    pid,
		    exe};
		sb_reset(&after);
		details(&after, h, &a[i]);
		table_add(t, cells, sb_str(&after));
	}
	if (min_width)
		table_min_width(t, min_width);
	table_print_rows(t, out, header);
	table_free(t);
	sb_free(&after);
}

void report_answers(struct strbuf *out, const struct history *h, const struct flow_answer *a,
		    size_t n, enum out_format format, bool correlate)
{
	if (format == OUT_JSON) {
		for (size_t i = 0; i < n; i++) {
			report_json(out, h, &a[i]);
			out_flush(out, stdout, false);
		}
	} else if (format == OUT_CSV) {
		report_csv_header(out, correlate);
		for (size_t i = 0; i < n; i++) {
			report_csv(out, h, &a[i], correlate);
			out_flush(out, stdout, false);
		}
	} else if (n) {
		report_table(out, h, a, n, correlate, NULL, true);
	}
}

void report_answer_live(struct strbuf *out, const struct history *h, const struct flow_answer *a,
			enum out_format format, bool first)
{
	/* wide enough for IPv4 endpoints and most results: the rows line up
	 * (a wider cell pushes the rest of its row only) */
	static const size_t width[8] = {27, 5, 21, 21, 3, 11, 7, 0};
	if (format == OUT_JSON) {
		report_json(out, h, a);
	} else if (format == OUT_CSV) {
		if (first)
			report_csv_header(out, false);
		report_csv(out, h, a, false);
	} else {
		report_table(out, h, a, 1, false, width, first);
	}
}
