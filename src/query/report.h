/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A flow and the process that made it, with its ancestry: the answer of `who`
 * (one per NET record) and of `correlate` (one per captured flow), in the
 * three output forms. The JSON shape is a contract scripts rely on
 * (docs/QUERY.md):
 *
 * {"flow":{"proto":"tcp","src_ip":"…","src_port":N,"dst_ip":"…","dst_port":N,
 *          "community_id":"1:…","time":"…","dns_name":"…"|null,
 *          "dns_name_from":"process"|"host"|null},
 *  "process":{"pid":N,"guid":"…","exe":"…","cmdline":"…","uid":N}|null,
 *  "ancestry":[{"pid":N,"guid":"…","exe":"…","cmdline":"…"},…],
 *  "injected_by":[{"pid":N,"guid":"…","exe":"…","method":"…","time":"…","count":N},…]}
 *
 * injected_by only when another process (or the process itself) acted on it
 * (INJECT) up to the flow's time.
 * ancestry starts at the parent and ends at the first ancestor the log knows.
 * correlate adds "reason":"…" to the objects of flows it could not attribute.
 */
#ifndef ONMITSU_QUERY_REPORT_H
#define ONMITSU_QUERY_REPORT_H

#include <stdint.h>

#include "query/dnsmap.h"
#include "query/history.h"
#include "query/output.h"

struct flow_view {
	const char *proto;
	const char *src_ip, *dst_ip;
	int32_t src_port, dst_port; /* -1: none */
	const char *direction;	    /* "out", "in", "" */
	const char *result;
	const char *community_id;
	uint64_t time_ns;
};

struct flow_answer {
	struct flow_view flow;
	int32_t proc;	    /* PROC_NONE: nobody */
	uint64_t proc_time; /* when to take the process's exe/cmdline */
	const char *reason; /* correlate: why no process, or NULL */
	int64_t delta_ns;   /* correlate: log record time - packet time */
	bool has_delta;
	struct dns_hit dns; /* the name the destination was resolved from (dnsmap.h) */
};

/* Fill a flow view from a kept NET record (strings point into h). */
void flow_view_from_rec(const struct history *h, const struct flow_rec *f, struct flow_view *v);

/* All n answers in one of the three forms (no table at all for none): JSON
 * and CSV are written to stdout as they grow, a table is left in out. */
void report_answers(struct strbuf *out, const struct history *h, const struct flow_answer *a,
		    size_t n, enum out_format format, bool correlate);

/* One answer as it comes (who --follow), in out: the CSV header and the
 * table's header line before the first; table columns of a fixed width. */
void report_answer_live(struct strbuf *out, const struct history *h, const struct flow_answer *a,
			enum out_format format, bool first);

/* Who acted on process p (INJECT) up to until_ns: ,"injected_by":[{"pid":N,
 * "guid":"…","exe":"…","method":"…","time":"…","count":N},…] (the actor's
 * exe when it first did so; count: the events counted up to until_ns), and
 * the same as lines "INDENTinjected  METHOD by PID EXE ... at TIME". Nothing
 * at all when nobody did. */
void report_injected_json(struct strbuf *out, const struct history *h, int32_t p,
			  uint64_t until_ns);
void report_injected_lines(struct strbuf *out, const struct history *h, int32_t p,
			   uint64_t until_ns, const char *indent);
/* ... and as one CSV field: "METHOD:PID:GUID:COUNT" for each, joined by
 * "; " (PID and GUID empty when the log does not name the actor) */
void report_injected_csv(struct strbuf *out, const struct history *h, int32_t p, uint64_t until_ns);
/* ",SHA256,CGROUP,CONTAINER_ID" of an image (empty fields when im is NULL) */
void report_image_csv(struct strbuf *out, const struct history *h, const struct proc_image *im);

/* A flow on one line of a tree or timeline: "PROTO SRC -> DST", ICMP with
 * its type and code (what the log keeps in the port columns) after the
 * addresses, then the direction and result when known. */
void flow_text(struct strbuf *out, const char *proto, const char *src_ip, int64_t src_port,
	       const char *dst_ip, int64_t dst_port, const char *direction, const char *result);

#endif
