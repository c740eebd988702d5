/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu report: one self-contained HTML page about a process family, the
 * processes that talked to a destination, or the hunt's findings: the process
 * tree with each process's programs, flows, DNS names, modules and the
 * evidence kept of it (EVIDENCE records, as plain markup: they are rare), the hunt
 * findings, and a timeline. No network access is needed to read it: the CSS
 * and the script are inline, no font or image is fetched. Every value from
 * the log is HTML-escaped (the log holds attacker-chosen text), after the
 * terminal-safe escaping every other output applies.
 *
 * Speed (a family of 10,000 processes must open in under 3 s): the browser
 * pays for every element it builds, and a <details> is dearest (each has its
 * own shadow tree and style sheet in Chromium). So each process is one line
 * of markup with a button per section (programs, flows, DNS answers,
 * modules); the sections' rows are in one JSON data block that the script
 * turns into a table when a button is pressed (a flagged process's flows at
 * load). Off-screen processes and timeline parts are not laid out
 * (content-visibility). The data block's strings are JSON-escaped with
 * < > & ' written \u00XX, so no text from the log can end the script
 * element or open a comment in it, and the script puts them in the page as
 * text (textContent), never as markup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/seal.h"
#include "query/cli.h"
#include "query/commands.h"
#include "query/dnsmap.h"
#include "query/filter.h"
#include "query/history.h"
#include "query/hunt.h"
#include "query/output.h"
#include "util/escape.h"
#include "util/log.h"

/* the timeline lists at most this many rows (the page says how many more) */
#define REPORT_TIMELINE_MAX 5000
/* the timeline in parts of this many rows, laid out when on the screen */
#define REPORT_TIMELINE_PART 200
/* --hunt: the processes of findings scoring at least this */
#define REPORT_HUNT_MIN 0.5

static void report_usage(void)
{
	printf("usage: onmitsu report (--guid G | --dst ADDR | --hunt)... --html FILE\n"
	       "                      [--since T] [--until T] [--log-dir DIR]\n"
	       "\n"
	       "Write one self-contained HTML page (no network access needed to read it):\n"
	       "the process tree with each process's programs, flows, DNS names and modules,\n"
	       "the hunt's findings, and a timeline, for someone who has never seen onmitsu.\n"
	       "For the terminal, use tree, timeline and hunt.\n"
	       "\n"
	       "  --guid G              the family of this process (ancestors, descendants)\n"
	       "  --dst ADDR            the processes with flows to ADDR (IP, IP:PORT, :PORT,\n"
	       "                        IP/PREFIX), with their ancestors and descendants\n"
	       "  --hunt                the processes of the hunt's findings scoring 0.5 or\n"
	       "                        more, with their ancestors and descendants\n"
	       "  --html FILE           where to write the page (- for stdout)\n"
	       "  --since T, --until T  the window of the hunt and of the flows shown\n"
	       "  -d, --log-dir DIR     the log directory (default " DEFAULT_LOG_DIR ")\n"
	       "  -h, --help            this help\n");
}

enum { OPT_DST = CLI_OPT_OWN, OPT_HUNT, OPT_HTML };

struct report_options {
	bool has_dst, hunt;
	struct endpoint dst;
	const char *html;
};

static int report_option(int c, const char *arg, void *ctx)
{
	struct report_options *o = ctx;
	char err[512];
	switch (c) {
	case OPT_DST:
		if (parse_endpoint(arg, &o->dst, err, sizeof(err)) < 0)
			return usage_error("report", "--dst %s", err);
		o->has_dst = true;
		return CLI_NEXT;
	case OPT_HUNT:
		o->hunt = true;
		return CLI_NEXT;
	case OPT_HTML:
		if (!*arg)
			return usage_error("report", "--html needs a file name (or - for stdout)");
		o->html = arg;
		return CLI_NEXT;
	case CLI_OPT_GUID:
		if (!*arg)
			return usage_error("report", "--guid needs a guid from the log");
		return CLI_SHARED;
	default:
		return CLI_SHARED;
	}
}

/* an EVIDENCE record: what was kept of a process (docs/FORMAT.md, "Evidence") */
struct evidence_rec {
	int32_t proc;
	uint64_t time_ns;
	char *result, *path, *sha, *detail;
};
#define REPORT_EVIDENCE_MAX                                                                        \
	100000 /* EVIDENCE records shown (a recorder keeps each process once)                      \
		*/

struct report_state {
	struct hunt hu;
	struct dns_map dns;
	struct evidence_rec *ev;
	uint32_t nev, cap;
};

static void keep_evidence(struct report_state *st, const struct log_record *rec, int32_t proc)
{
	if (proc == PROC_NONE || st->nev == REPORT_EVIDENCE_MAX)
		return;
	if (st->nev == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 16;
		st->ev = realloc(st->ev, st->cap * sizeof(*st->ev));
		if (!st->ev)
			fatal("out of memory");
	}
	struct evidence_rec *e = &st->ev[st->nev++];
	e->proc = proc;
	e->time_ns = rec->time_ns;
	e->result = strdup(rec->f[COL_RESULT]);
	e->path = strdup(rec->f[COL_PATH]);
	e->sha = strdup(rec->f[COL_SHA256]);
	e->detail = strdup(rec->f[COL_DETAIL]);
	if (!e->result || !e->path || !e->sha || !e->detail)
		fatal("out of memory");
}

static void evidence_free(struct report_state *st)
{
	for (uint32_t i = 0; i < st->nev; i++) {
		free(st->ev[i].result);
		free(st->ev[i].path);
		free(st->ev[i].sha);
		free(st->ev[i].detail);
	}
	free(st->ev);
}

static void report_record(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	struct report_state *st = arg;
	if (rec->event == OM_EVENT_DNS) {
		dns_map_add(&st->dns, h, rec, proc);
		return;
	}
	if (rec->event == OM_EVENT_MODLOAD) {
		history_keep_module(h, rec, PROC_NONE);
		return;
	}
	if (rec->event == OM_EVENT_EVIDENCE) {
		keep_evidence(st, rec, proc != PROC_NONE ? proc : history_proc_of(h, rec));
		return;
	}
	hunt_record(h, rec, proc, &st->hu);
}

/* ---- HTML ---- */

/* text from the log: shown as every output shows it (escape_display), then
 * HTML-escaped */
static void esc(struct strbuf *out, const char *s)
{
	struct strbuf d = STRBUF_INIT;
	escape_display(&d, s, strlen(s));
	const char *p = sb_str(&d);
	for (; *p; p++) {
		switch (*p) {
		case '&':
			sb_adds(out, "&amp;");
			break;
		case '<':
			sb_adds(out, "&lt;");
			break;
		case '>':
			sb_adds(out, "&gt;");
			break;
		case '"':
			sb_adds(out, "&quot;");
			break;
		case '\'':
			sb_adds(out, "&#39;");
			break;
		default:
			sb_addc(out, *p);
		}
	}
	sb_free(&d);
}

static void tm(struct strbuf *out, uint64_t t)
{
	char b[TIME_TEXT_SIZE];
	sb_adds(out, t ? time_text(b, sizeof(b), t) : "-");
}

static const char *const CSS =
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1a1a1a;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}"
    "code,.mono{font-family:ui-monospace,monospace;font-size:.95em}"
    ".intro{max-width:60em;color:#333}"
    "table{border-collapse:collapse;margin:.3em 0}"
    "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}"
    "ul.tree,ul.tree ul{list-style:none;padding-left:1.4em;margin:0}"
    "ul.tree li{border-left:1px dotted #999;padding-left:.5em;margin:.15em 0}"
    /* a family of 10,000: lay out only what is on the screen */
    "li.proc{content-visibility:auto;contain-intrinsic-size:auto 3em}"
    ".tlc{content-visibility:auto;contain-intrinsic-size:auto 300em}"
    "table.tl{table-layout:fixed;width:100%;margin:0}"
    ".tl td{overflow-wrap:anywhere}.tl tr>:first-child{width:17em}.tl tr>:nth-child(2){width:30%}"
    ".proc>.head{font-family:ui-monospace,monospace}"
    ".flagged>.head{background:#ffe3e0}"
    ".pid{font-weight:bold}.guid{color:#777}.exit{color:#555}"
    ".score{font-weight:bold}.hi{color:#b00000}.mid{color:#a05a00}.lo{color:#555}"
    ".more{margin-left:1em}.sec{margin-left:1em}.evidence{margin-left:1em;background:#fff4e0}"
    "button.tg{font:inherit;border:0;background:none;padding:0 .8em 0 0;cursor:pointer;"
    "color:#0645ad}"
    "button.tg::before{content:'\\25b8  '}button.tg[aria-expanded=true]::before{content:'\\25be  '}"
    "#filter{margin:.5em 0;padding:3px;width:30em}";

/*
 * The sections of a process, built from the data block when asked for (only
 * with createElement and textContent: the log's text never becomes markup),
 * and the filter box, which matches a process's line and its sections' text
 * and keeps the ancestors of a match shown. Plain DOM, no library.
 */
static const char *const JS =
    "var onmD=null,onmS=null;"
    "function onmData(){if(!onmD)onmD=JSON.parse(document.getElementById('onm-data')."
    "textContent);return onmD;}"
    "function onmEl(t,c,x){var e=document.createElement(t);if(c)e.className=c;"
    "if(x!=null)e.textContent=x;return e;}"
    /* rows of cells; mono: which columns are monospaced */
    "function onmTable(head,rows,mono,cell){var t=onmEl('table'),r=t.insertRow();"
    "head.forEach(function(h){r.appendChild(onmEl('th',null,h));});"
    "rows.forEach(function(row){var r=t.insertRow();for(var i=0;i<head.length;i++){"
    "var c=onmEl('td',mono.indexOf(i)>=0?'mono':null);if(cell)cell(c,row,i);"
    "else c.textContent=row[i];r.appendChild(c);}});return t;}"
    "var onmSec={"
    "i:function(d){return onmTable(['time','program','command line'],d.i,[0,1,2]);},"
    "f:function(d){return onmTable(['time','proto','from','to','dir','result',"
    "'DNS name of the destination'],d.f,[0,2,3],function(c,r,i){c.textContent=r[i];"
    "if(i==6&&r[7])c.appendChild(onmEl('span','lo',' (resolved by another process)'));});},"
    "n:function(d){return onmTable(['time','name','address'],d.n,[0,2]);},"
    "m:function(d){var u=onmEl('ul');d.m.forEach(function(p){u.appendChild(onmEl('li',"
    "'mono',p));});return u;}};"
    /* a section is made once, then shown and hidden; sections keep the
     * buttons' order, before the list of children */
    "function onmOpen(b){var li=b.closest('li.proc'),s=b.dataset.s,o='ifnm'.indexOf(s),"
    "x=li.querySelector(':scope>.sec-'+s);if(x){x.hidden=!x.hidden;}else{"
    "x=onmEl('div','sec sec-'+s);x.dataset.o=o;x.appendChild(onmSec[s](onmData()"
    "[li.dataset.k]));var c=b.parentNode.nextElementSibling;"
    "while(c&&c.tagName!='UL'&&+c.dataset.o<o)c=c.nextElementSibling;"
    "li.insertBefore(x,c);}b.setAttribute('aria-expanded',x.hidden?'false':'true');}"
    "function onmText(x){return x==null?'':typeof x=='object'?Object.keys(x).map("
    "function(k){return onmText(x[k]);}).join(' '):String(x);}"
    "function onmFilter(v){v=v.toLowerCase();var L=document.querySelectorAll('li.proc'),i;"
    "if(v&&!onmS)onmS=onmData().map(function(d){return onmText(d).toLowerCase();});"
    "for(i=0;i<L.length;i++)L[i].onmSub=false;"
    "for(i=L.length-1;i>=0;i--){var li=L[i],hit=!v||li.onmSub||li.firstElementChild."
    "textContent.toLowerCase().indexOf(v)>=0||onmS[li.dataset.k].indexOf(v)>=0;"
    "li.style.display=hit?'':'none';if(hit&&v){var p=li.parentElement.closest('li.proc');"
    "if(p)p.onmSub=true;}}}"
    "document.addEventListener('click',function(e){var b=e.target.closest&&"
    "e.target.closest('button.tg');if(b)onmOpen(b);});"
    "addEventListener('DOMContentLoaded',function(){document.querySelectorAll("
    "'li.flagged>.more>button[data-s=f]').forEach(onmOpen);});"
    /* when the page was ready, for the benchmark (tests/e2e/test_hunt.py) */
    "addEventListener('load',function(){document.documentElement.setAttribute("
    "'data-load-ms',Math.round(performance.now()));});";

static void score_span(struct strbuf *out, double s)
{
	sb_addf(out, "<span class=\"score %s\">%.3f</span>",
		s >= 0.7   ? "hi"
		: s >= 0.4 ? "mid"
			   : "lo",
		s);
}

static void proc_link(struct strbuf *out, const struct history *h, int32_t p, uint64_t t,
		      const uint8_t *shown)
{
	if (p == PROC_NONE) {
		sb_adds(out, "-");
		return;
	}
	const struct proc_image *im = history_image_at(h, p, t);
	if (shown[p]) {
		sb_adds(out, "<a href=\"#p-");
		esc(out, history_guid(h, p));
		sb_adds(out, "\">");
	}
	sb_addf(out, "%d ", h->procs[p].pid);
	esc(out, im ? history_str(h, im->exe) : "(no exe in the log)");
	if (shown[p])
		sb_adds(out, "</a>");
}

struct per_proc {
	uint32_t *first; /* proc -> start in idx */
	uint32_t *idx;
};

/* group item indexes by process (counting sort, keeps their order) */
static void group_by_proc(struct per_proc *g, uint32_t nprocs, uint32_t n,
			  int32_t (*proc_of)(const void *, uint32_t), const void *items)
{
	g->first = calloc(nprocs + 2, sizeof(*g->first));
	g->idx = malloc((n ? n : 1) * sizeof(*g->idx));
	if (!g->first || !g->idx)
		fatal("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		int32_t p = proc_of(items, i);
		if (p >= 0)
			g->first[p + 2]++;
	}
	for (uint32_t p = 0; p < nprocs; p++)
		g->first[p + 2] += g->first[p + 1];
	for (uint32_t i = 0; i < n; i++) {
		int32_t p = proc_of(items, i);
		if (p >= 0)
			g->idx[g->first[p + 1]++] = i;
	}
	/* first[p]..first[p + 1] now */
}

static int32_t flow_proc(const void *items, uint32_t i)
{
	return ((const struct flow_rec *)items)[i].proc;
}

static int32_t module_proc(const void *items, uint32_t i)
{
	return ((const struct module_rec *)items)[i].proc;
}

static int32_t dns_proc(const void *items, uint32_t i)
{
	return ((const struct dns_answer_rec *)items)[i].proc;
}

static int32_t evidence_proc(const void *items, uint32_t i)
{
	return ((const struct evidence_rec *)items)[i].proc;
}

struct page {
	struct strbuf *out;
	struct strbuf *data; /* the JSON data block: one object per process shown */
	uint32_t ndata;
	const struct history *h;
	const struct dns_map *dns;
	const uint8_t *shown;
	const uint8_t *flagged;
	struct per_proc flows, modules, names, evidence;
	const struct evidence_rec *ev;
	uint64_t since, until;
};

/* text from the log as a JSON string for the data block: shown as every
 * output shows it (escape_display), then JSON-escaped, with the characters
 * that mean something to HTML written \u00XX, so that nothing in it can end
 * the script element ("</script>") or open a comment ("<!--") */
static void js_str(struct strbuf *out, const char *s)
{
	struct strbuf d = STRBUF_INIT;
	escape_display(&d, s, strlen(s));
	sb_addc(out, '"');
	for (const unsigned char *p = (const unsigned char *)sb_str(&d); *p; p++) {
		if (*p == '"' || *p == '\\') {
			sb_addc(out, '\\');
			sb_addc(out, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&' ||
			   *p == '\'')
			sb_addf(out, "\\u%04x", *p);
		else
			sb_addc(out, (char)*p);
	}
	sb_addc(out, '"');
	sb_free(&d);
}

static void js_time(struct strbuf *out, uint64_t t)
{
	char b[TIME_TEXT_SIZE];
	sb_addf(out, "\"%s\"", t ? time_text(b, sizeof(b), t) : "-");
}

/* "IP:PORT", or IP when the record has no port */
static void js_endpoint(struct strbuf *out, const struct history *h, uint32_t ip, int32_t port)
{
	struct strbuf t = STRBUF_INIT;
	sb_adds(&t, ip_table_text(&h->ips, ip));
	if (port >= 0)
		sb_addf(&t, ":%d", port);
	js_str(out, sb_str(&t));
	sb_free(&t);
}

/* [time, proto, from, to, dir, result, DNS name, 1 when another process
 * resolved the name] */
/* value of key in an EVIDENCE detail, HTML-escaped, or "" */
static void detail_html(struct strbuf *out, const char *detail, const char *key)
{
	char v[1024];
	if (detail_get(detail, key, v, sizeof(v)))
		esc(out, v);
}

/* what was kept of process p: where, the manifest's hash, what was not and why */
static void evidence_html(struct page *pg, int32_t p)
{
	struct strbuf *out = pg->out;
	uint32_t n = pg->evidence.first[p + 1] - pg->evidence.first[p];
	if (!n)
		return;
	/* plain markup: evidence is rare, and must be seen without a click */
	sb_adds(out, "<div class=evidence><b>evidence kept</b><table><tr>"
		     "<th>time</th><th>result</th><th>rule</th><th>in the log directory</th>"
		     "<th>manifest SHA-256</th><th>files</th><th>not kept (why)</th></tr>\n");
	for (uint32_t k = pg->evidence.first[p]; k < pg->evidence.first[p + 1]; k++) {
		const struct evidence_rec *e = &pg->ev[pg->evidence.idx[k]];
		sb_adds(out, "<tr><td class=mono>");
		tm(out, e->time_ns);
		sb_adds(out, "</td><td>");
		esc(out, e->result);
		sb_adds(out, "</td><td>");
		detail_html(out, e->detail, "rule");
		sb_adds(out, "</td><td class=mono>");
		esc(out, e->path);
		sb_adds(out, "</td><td class=mono>");
		esc(out, e->sha);
		sb_adds(out, "</td><td>");
		detail_html(out, e->detail, "files");
		sb_adds(out, " (");
		detail_html(out, e->detail, "bytes");
		sb_adds(out, " bytes)</td><td>");
		detail_html(out, e->detail, "not_kept");
		sb_adds(out, "</td></tr>\n");
	}
	sb_adds(out, "</table></div>");
}

static void flow_data(struct page *pg, const struct flow_rec *f)
{
	const struct history *h = pg->h;
	struct strbuf *out = pg->data;
	sb_addc(out, '[');
	js_time(out, f->time_ns);
	sb_addc(out, ',');
	js_str(out, history_str(h, f->proto_text));
	sb_addc(out, ',');
	js_endpoint(out, h, f->src_ip, f->src_port);
	sb_addc(out, ',');
	js_endpoint(out, h, f->dst_ip, f->dst_port);
	sb_addf(out, ",\"%s\",",
		f->direction == DIR_OUT	 ? "out"
		: f->direction == DIR_IN ? "in"
					 : "");
	js_str(out, history_str(h, f->result));
	struct dns_hit hit = {.from = DNS_FROM_NONE};
	if (f->direction != DIR_IN)
		hit = dns_map_lookup(pg->dns, f->dst_ip, f->proc, f->time_ns);
	sb_addc(out, ',');
	js_str(out, hit.from != DNS_FROM_NONE ? history_str(h, hit.name) : "");
	sb_addf(out, ",%d]", hit.from == DNS_FROM_HOST);
}

/* a button that opens one section of a process (the script builds it from
 * the data block: "i" programs, "f" flows, "n" DNS answers, "m" modules,
 * shown in this order) */
static void section_button(struct strbuf *out, char s, uint32_t n, const char *what)
{
	sb_addf(out, "<button class=tg data-s=%c>%u %s%s</button>", s, n, what, n == 1 ? "" : "s");
}

/* a process's line in the page, and its sections into the data block */
static void proc_block(struct page *pg, int32_t p)
{
	const struct history *h = pg->h;
	struct strbuf *out = pg->out, *data = pg->data;
	const struct proc *pr = &h->procs[p];
	const struct proc_image *last = history_image_at(h, p, UINT64_MAX);
	sb_addf(out, "<li class=\"proc%s\" data-k=%u id=\"p-", pg->flagged[p] ? " flagged" : "",
		pg->ndata);
	esc(out, history_guid(h, p));
	sb_addf(out, "\"><div class=head><span class=pid>%d</span> ", pr->pid);
	esc(out, last ? history_str(h, last->exe) : "(no exe in the log)");
	sb_adds(out, " (");
	esc(out, last ? history_str(h, last->cmdline) : "");
	sb_adds(out, ") ");
	if (pr->uid >= 0)
		sb_addf(out, "uid %lld ", (long long)pr->uid);
	sb_adds(out, "<span class=guid>guid ");
	esc(out, history_guid(h, p));
	sb_adds(out, "</span> <span class=exit>");
	if (pr->start_ns) {
		sb_adds(out, pr->origin == ORIGIN_EXISTING ? "running at " : "started ");
		tm(out, pr->start_ns);
	}
	if (pr->exit_ns) {
		sb_adds(out, ", exited ");
		tm(out, pr->exit_ns);
		sb_adds(out, " (");
		esc(out, history_str(h, pr->exit_result));
		sb_adds(out, ")");
	} else if (pr->gone_ns) {
		sb_adds(out, ", gone before ");
		tm(out, pr->gone_ns);
	}
	sb_adds(out, "</span></div>");
	evidence_html(pg, p);

	sb_adds(data, pg->ndata++ ? ",\n{" : "{");
	const char *sep = "";
	uint32_t nimg = 0;
	for (uint32_t j = pr->first_image; j; j = h->images[j - 1].next)
		nimg++;
	uint32_t nf = 0;
	for (uint32_t k = pg->flows.first[p]; k < pg->flows.first[p + 1]; k++) {
		uint64_t t = h->flows[pg->flows.idx[k]].time_ns;
		nf += t >= pg->since && t <= pg->until;
	}
	uint32_t nn = pg->names.first[p + 1] - pg->names.first[p];
	uint32_t nm = pg->modules.first[p + 1] - pg->modules.first[p];
	if (nimg > 1 || nf || nn || nm)
		sb_adds(out, "<div class=more>");
	/* programs it ran: [time, exe, cmdline] */
	if (nimg > 1) {
		section_button(out, 'i', nimg, "program");
		sb_adds(data, "\"i\":[");
		for (uint32_t j = pr->first_image; j; j = h->images[j - 1].next) {
			sb_adds(data, j == pr->first_image ? "[" : ",[");
			js_time(data, h->images[j - 1].time_ns);
			sb_addc(data, ',');
			js_str(data, history_str(h, h->images[j - 1].exe));
			sb_addc(data, ',');
			js_str(data, history_str(h, h->images[j - 1].cmdline));
			sb_addc(data, ']');
		}
		sb_addc(data, ']');
		sep = ",";
	}
	/* flows in the window */
	if (nf) {
		section_button(out, 'f', nf, "flow");
		sb_addf(data, "%s\"f\":[", sep);
		const char *fsep = "";
		for (uint32_t k = pg->flows.first[p]; k < pg->flows.first[p + 1]; k++) {
			const struct flow_rec *f = &h->flows[pg->flows.idx[k]];
			if (f->time_ns < pg->since || f->time_ns > pg->until)
				continue;
			sb_adds(data, fsep);
			flow_data(pg, f);
			fsep = ",";
		}
		sb_addc(data, ']');
		sep = ",";
	}
	/* names it resolved: [time, name, address] */
	if (nn) {
		section_button(out, 'n', nn, "DNS answer");
		sb_addf(data, "%s\"n\":[", sep);
		for (uint32_t k = pg->names.first[p]; k < pg->names.first[p + 1]; k++) {
			const struct dns_answer_rec *d = &pg->dns->v[pg->names.idx[k]];
			sb_adds(data, k == pg->names.first[p] ? "[" : ",[");
			js_time(data, d->time_ns);
			sb_addc(data, ',');
			js_str(data, history_str(h, d->name));
			sb_addc(data, ',');
			js_str(data, ip_table_text(&h->ips, d->ip));
			sb_addc(data, ']');
		}
		sb_addc(data, ']');
		sep = ",";
	}
	/* modules: paths */
	if (nm) {
		section_button(out, 'm', nm, "module");
		sb_addf(data, "%s\"m\":[", sep);
		for (uint32_t k = pg->modules.first[p]; k < pg->modules.first[p + 1]; k++) {
			if (k > pg->modules.first[p])
				sb_addc(data, ',');
			js_str(data, history_str(h, h->modules[pg->modules.idx[k]].path));
		}
		sb_addc(data, ']');
	}
	sb_addc(data, '}');
	if (nimg > 1 || nf || nn || nm)
		sb_adds(out, "</div>");
	sb_addc(out, '\n');
}

/* the shown processes as nested lists, roots first, children in start order
 * (iterative: a deep chain must not exhaust the stack) */
static void tree_html(struct page *pg)
{
	const struct history *h = pg->h;
	struct strbuf *out = pg->out;
	int32_t *stack =
	    malloc((2 * (size_t)h->nprocs + 2) * sizeof(*stack)); /* each once, and its end mark */
	if (!stack)
		fatal("out of memory");
	sb_adds(out, "<ul class=tree>\n");
	for (uint32_t r = 0; r < h->nprocs; r++) {
		int32_t par = h->procs[r].parent;
		if (!pg->shown[r] || (par != PROC_NONE && pg->shown[par]))
			continue;
		uint32_t n = 0;
		stack[n++] = (int32_t)r;
		while (n) {
			int32_t p = stack[--n];
			if (p == -1) { /* the end of a process's children */
				sb_adds(out, "</ul></li>\n");
				continue;
			}
			if (p == -2) { /* the end of a process without children */
				sb_adds(out, "</li>\n");
				continue;
			}
			proc_block(pg, p);
			/* children, pushed in reverse so they come out in start order */
			uint32_t mark = n;
			stack[n++] = -1;
			for (int32_t c = h->procs[p].first_child; c != PROC_NONE;
			     c = h->procs[c].next_sibling)
				if (pg->shown[c])
					stack[n++] = c;
			if (n == mark + 1) { /* no list for no children */
				stack[mark] = -2;
				continue;
			}
			for (uint32_t a = mark + 1, b = n - 1; a < b; a++, b--) {
				int32_t t = stack[a];
				stack[a] = stack[b];
				stack[b] = t;
			}
			sb_adds(out, "<ul>\n");
		}
	}
	sb_adds(out, "</ul>\n");
	free(stack);
}

struct tl_item {
	uint64_t t;
	int32_t proc;
	uint8_t kind; /* 0 program, 1 flow, 2 exit, 3 finding */
	uint32_t i;
};

static int cmp_tl(const void *a, const void *b)
{
	const struct tl_item *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void timeline_html(struct page *pg, const struct hunt *hu)
{
	const struct history *h = pg->h;
	struct strbuf *out = pg->out;
	struct tl_item *v = NULL;
	size_t n = 0, cap = 0;
#define ADD_(T, P, K, I)                                                                           \
	do {                                                                                       \
		if (n == cap) {                                                                    \
			cap = cap ? cap * 2 : 1024;                                                \
			v = realloc(v, cap * sizeof(*v));                                          \
			if (!v)                                                                    \
				fatal("out of memory");                                            \
		}                                                                                  \
		v[n++] = (struct tl_item){(T), (P), (K), (I)};                                     \
	} while (0)
	for (uint32_t p = 0; p < h->nprocs; p++) {
		if (!pg->shown[p])
			continue;
		for (uint32_t j = h->procs[p].first_image; j; j = h->images[j - 1].next)
			if (h->images[j - 1].time_ns >= pg->since &&
			    h->images[j - 1].time_ns <= pg->until)
				ADD_(h->images[j - 1].time_ns, (int32_t)p, 0, j - 1);
		uint64_t e = h->procs[p].exit_ns;
		if (e && e >= pg->since && e <= pg->until)
			ADD_(e, (int32_t)p, 2, p);
		for (uint32_t k = pg->flows.first[p]; k < pg->flows.first[p + 1]; k++) {
			uint64_t t = h->flows[pg->flows.idx[k]].time_ns;
			if (t >= pg->since && t <= pg->until)
				ADD_(t, (int32_t)p, 1, pg->flows.idx[k]);
		}
	}
	for (uint32_t i = 0; i < hu->n; i++)
		if (hu->v[i].proc != PROC_NONE && pg->shown[hu->v[i].proc])
			ADD_(hu->v[i].first_ns, hu->v[i].proc, 3, i);
#undef ADD_
	qsort(v, n, sizeof(*v), cmp_tl);
	size_t shown = n < REPORT_TIMELINE_MAX ? n : REPORT_TIMELINE_MAX;
	if (n > shown)
		sb_addf(out,
			"<p>The first %zu of %zu events; <code>onmitsu timeline --guid G "
			"--descendants</code> lists them all.</p>",
			shown, n);
	/* parts of REPORT_TIMELINE_PART rows, each laid out only when on the
	 * screen; fixed column widths keep the parts' columns aligned */
	sb_adds(out, "<div id=timeline>");
	for (size_t k = 0; k < shown; k++) {
		if (k % REPORT_TIMELINE_PART == 0)
			sb_adds(out, k ? "</table></div>\n<div class=tlc><table class=tl>"
				       : "<div class=tlc><table class=tl><tr><th>time</th><th>"
					 "process</th><th>what</th></tr>\n");
		sb_adds(out, "<tr><td class=mono>");
		tm(out, v[k].t);
		sb_adds(out, "</td><td>");
		proc_link(out, h, v[k].proc, v[k].t, pg->shown);
		sb_adds(out, "</td><td>");
		switch (v[k].kind) {
		case 0:
			sb_adds(out, "runs <span class=mono>");
			esc(out, history_str(h, h->images[v[k].i].exe));
			sb_adds(out, "</span> (");
			esc(out, history_str(h, h->images[v[k].i].cmdline));
			sb_adds(out, ")");
			break;
		case 1: {
			const struct flow_rec *f = &h->flows[v[k].i];
			esc(out, history_str(h, f->proto_text));
			sb_adds(out, " ");
			esc(out, ip_table_text(&h->ips, f->src_ip));
			if (f->src_port >= 0)
				sb_addf(out, ":%d", f->src_port);
			sb_adds(out, " &rarr; ");
			esc(out, ip_table_text(&h->ips, f->dst_ip));
			if (f->dst_port >= 0)
				sb_addf(out, ":%d", f->dst_port);
			sb_adds(out, " ");
			esc(out, history_str(h, f->result));
			break;
		}
		case 2:
			sb_adds(out, "exits (");
			esc(out, history_str(h, h->procs[v[k].i].exit_result));
			sb_adds(out, ")");
			break;
		default:
			sb_adds(out, "hunt finding ");
			score_span(out, hu->v[v[k].i].score);
			sb_adds(out, " ");
			esc(out, hunt_kind_name(hu->v[v[k].i].kind));
		}
		sb_adds(out, "</td></tr>\n");
	}
	sb_adds(out, shown ? "</table></div></div>\n" : "</div>\n");
	free(v);
}

static void findings_html(struct page *pg, const struct hunt *hu, bool all)
{
	const struct history *h = pg->h;
	struct strbuf *out = pg->out;
	uint32_t n = 0;
	for (uint32_t i = 0; i < hu->n; i++)
		n += all || (hu->v[i].proc != PROC_NONE && pg->shown[hu->v[i].proc]);
	if (!n) {
		sb_adds(out, "<p>No finding.</p>\n");
		return;
	}
	sb_adds(out, "<table id=findings><tr><th>score</th><th>kind</th><th>process</th><th>why"
		     "</th><th>records (seq)</th></tr>\n");
	for (uint32_t i = 0; i < hu->n; i++) {
		const struct hunt_finding *f = &hu->v[i];
		if (!all && (f->proc == PROC_NONE || !pg->shown[f->proc]))
			continue;
		sb_adds(out, "<tr class=finding><td>");
		score_span(out, f->score);
		sb_adds(out, "</td><td>");
		esc(out, hunt_kind_name(f->kind));
		sb_adds(out, "</td><td>");
		proc_link(out, h, f->proc, f->last_ns, pg->shown);
		sb_adds(out, "</td><td>");
		esc(out, f->reason ? f->reason : "");
		sb_adds(out, "</td><td class=mono>");
		for (uint32_t k = 0; k < f->nrefs; k++)
			sb_addf(out, "%s%lld", k ? " " : "", (long long)f->refs[k].seq);
		if (f->nrefs_total > f->nrefs)
			sb_addf(out, " &hellip; (%u)", f->nrefs_total);
		sb_adds(out, "</td></tr>\n");
	}
	sb_adds(out, "</table>\n");
}

static void mark_family(const struct history *h, int32_t p, uint8_t *shown)
{
	int32_t chain[HISTORY_MAX_DEPTH];
	int n = history_ancestry(h, p, chain, HISTORY_MAX_DEPTH);
	for (int k = 0; k < n; k++)
		shown[chain[k]] = 1;
	shown[p] = 0; /* history_mark_descendants marks p and below */
	history_mark_descendants(h, p, shown, 1);
}

static bool flow_to(const struct history *h, const struct flow_rec *f, const struct endpoint *ep)
{
	if (ep->has_port && f->dst_port != ep->port)
		return false;
	if (!ep->has_addr)
		return true;
	struct ipaddr a;
	const char *t = ip_table_text(&h->ips, f->dst_ip);
	return ipaddr_parse(t, strlen(t), &a) == 0 &&
	       ipaddr_in_prefix(&a, &ep->addr, ep->prefix_len);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dst", required_argument, NULL, OPT_DST},
	    {"hunt", no_argument, NULL, OPT_HUNT},
	    {"html", required_argument, NULL, OPT_HTML},
	    CLI_LONG_GUID,
	    CLI_LONG_SINCE,
	    CLI_LONG_UNTIL,
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "report", report_usage);
	struct report_options o = {.html = NULL};
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT, longopts, report_option, &o);
	if (rc != CLI_NEXT)
		return rc;
	if ((rc = cli_no_operands(&cli)) || (rc = cli_check_window(&cli)))
		return rc;
	if (!cli.guid && !o.has_dst && !o.hunt)
		return usage_error("report",
				   "say what to report on: --guid G, --dst ADDR or --hunt");
	if (!o.html)
		return usage_error("report", "--html FILE is needed: the report is an HTML page "
					     "(for the terminal: tree, timeline, hunt)");

	struct history h;
	struct report_state st;
	hunt_init(&st.hu);
	dns_map_init(&st.dns);
	st.ev = NULL;
	st.nev = st.cap = 0;
	if (cli_load(&cli, &h,
		     HUNT_EVENTS | LOG_EVENT_BIT(OM_EVENT_DNS) | LOG_EVENT_BIT(OM_EVENT_MODLOAD) |
			 LOG_EVENT_BIT(OM_EVENT_EVIDENCE),
		     report_record, &st) < 0) {
		hunt_free(&st.hu);
		dns_map_free(&st.dns);
		evidence_free(&st);
		return 1;
	}
	dns_map_index(&st.dns);
	hunt_run(&st.hu, &h, cli.since_ns, cli.until_ns);

	uint8_t *shown = calloc(h.nprocs ? h.nprocs : 1, 1);
	uint8_t *flagged = calloc(h.nprocs ? h.nprocs : 1, 1);
	if (!shown || !flagged)
		fatal("out of memory");
	if (cli.guid) {
		int32_t p = history_find_guid(&h, cli.guid);
		if (p == PROC_NONE) {
			log_warnx("report: no process with guid %s in the log (onmitsu who or tree "
				  "--pid shows the guids)",
				  cli.guid);
			rc = 1;
			goto out;
		}
		mark_family(&h, p, shown);
		flagged[p] = 1;
	}
	if (o.has_dst) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < h.nflows; i++) {
			const struct flow_rec *f = &h.flows[i];
			if (f->proc == PROC_NONE || !flow_to(&h, f, &o.dst) ||
			    f->time_ns < cli.since_ns || f->time_ns > cli.until_ns)
				continue;
			if (!flagged[f->proc])
				mark_family(&h, f->proc, shown);
			flagged[f->proc] = 1;
			n++;
		}
		if (!n)
			log_warnx("report: no flow in the log goes to that destination");
	}
	if (o.hunt)
		for (uint32_t i = 0; i < st.hu.n; i++) {
			const struct hunt_finding *f = &st.hu.v[i];
			if (f->score < REPORT_HUNT_MIN)
				continue;
			for (uint32_t k = 0; k < f->nrefs; k++) {
				int32_t p = f->refs[k].proc;
				if (p != PROC_NONE && !flagged[p]) {
					mark_family(&h, p, shown);
					flagged[p] = 1;
				}
			}
			if (f->other != PROC_NONE && !shown[f->other])
				mark_family(&h, f->other, shown);
		}
	for (uint32_t p = 0; p < h.nprocs; p++)
		shown[p] |= flagged[p];

	struct strbuf out = STRBUF_INIT, data = STRBUF_INIT;
	struct page pg = {.out = &out,
			  .data = &data,
			  .h = &h,
			  .dns = &st.dns,
			  .shown = shown,
			  .flagged = flagged,
			  .since = cli.since_ns,
			  .until = cli.until_ns};
	group_by_proc(&pg.flows, h.nprocs, h.nflows, flow_proc, h.flows);
	group_by_proc(&pg.modules, h.nprocs, h.nmodules, module_proc, h.modules);
	group_by_proc(&pg.names, h.nprocs, st.dns.n, dns_proc, st.dns.v);
	group_by_proc(&pg.evidence, h.nprocs, st.nev, evidence_proc, st.ev);
	pg.ev = st.ev;
	uint32_t nshown = 0;
	for (uint32_t p = 0; p < h.nprocs; p++)
		nshown += shown[p];

	char t1[TIME_TEXT_SIZE], t2[TIME_TEXT_SIZE];
	sb_adds(&out, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
		      "<title>onmitsu report</title><style>");
	sb_adds(&out, CSS);
	sb_adds(&out, "</style><script>");
	sb_adds(&out, JS);
	sb_adds(&out, "</script></head><body>\n<h1>onmitsu report</h1>\n<div class=intro><p>");
	sb_adds(&out, "This page was made by <code>onmitsu report</code> from the log in <code>");
	esc(&out, cli.dir);
	sb_adds(&out, "</code> (records from ");
	tm(&out, h.first_ns);
	sb_adds(&out, " to ");
	tm(&out, h.last_ns);
	sb_adds(&out, "). onmitsu records which program on this computer started which other "
		      "program, and which program made each network connection. It shows ");
	if (cli.guid) {
		sb_adds(&out, "the family of process <code>");
		esc(&out, cli.guid);
		sb_adds(&out, "</code>");
	}
	if (o.has_dst)
		sb_addf(&out, "%sthe processes that connected to the destination asked about",
			cli.guid ? "; " : "");
	if (o.hunt)
		sb_addf(&out,
			"%sthe processes of the automatic hunt's findings scoring %.1f or more",
			cli.guid || o.has_dst ? "; " : "", REPORT_HUNT_MIN);
	sb_addf(
	    &out,
	    ": %u process%s, with the processes that started them and those they "
	    "started.</p><p>A process is named by its <b>pid</b> (a number the system "
	    "reuses) and its <b>guid</b> (unique in the log). Highlighted processes are the "
	    "ones asked about or found. The buttons under a process show its network connections "
	    "(<i>flows</i>: from this computer's address and port to the other side's; "
	    "<i>out</i> when this computer opened it), the names it looked up (DNS), and the "
	    "libraries it loaded (modules). Text from the log is shown as the log writes it: a "
	    "byte that is not printable is written <code>\\xHH</code>.</p></div>\n",
	    nshown, nshown == 1 ? "" : "es");

	sb_adds(&out, "<h2>Findings of the hunt</h2>\n<p>Things that deserve a look in ");
	sb_addf(&out, "%s .. %s", time_text(t1, sizeof(t1), st.hu.since_ns),
		time_text(t2, sizeof(t2), st.hu.until_ns));
	sb_adds(&out, ", highest score (0 to 1) first, with the log records (their "
		      "<code>seq</code> numbers) that prove each.</p>\n");
	findings_html(&pg, &st.hu, o.hunt);

	sb_adds(&out, "<h2>Processes</h2>\n<noscript><p>With JavaScript off, the programs, flows, "
		      "DNS answers and modules of each process cannot be opened here: "
		      "<code>onmitsu tree --guid G</code> lists them.</p></noscript>\n"
		      "<input id=filter placeholder=\"show only processes "
		      "containing...\" oninput=\"onmFilter(this.value)\">\n");
	sb_adds(&data, "[");
	tree_html(&pg);
	sb_adds(&data, "]");
	sb_adds(&out, "<h2>Timeline</h2>\n");
	timeline_html(&pg, &st.hu);
	/* the sections of the processes, for the script (see js_str) */
	sb_adds(&out, "<script type=application/json id=onm-data>");
	sb_add(&out, sb_str(&data), data.len);
	sb_adds(&out, "</script>\n</body></html>\n");
	sb_free(&data);

	if (strcmp(o.html, "-") == 0) {
		if (out_flush(&out, stdout, true) < 0) {
			log_warn("report: writing the page failed");
			rc = 1;
		}
	} else {
		int fd = open(o.html, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		const char *p = sb_str(&out);
		size_t left = out.len;
		while (fd >= 0 && left) {
			ssize_t w = write(fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
		if (fd < 0 || left || close(fd) < 0) {
			log_warn("report: cannot write %s", o.html);
			rc = 1;
		}
	}
	free(pg.flows.first);
	free(pg.flows.idx);
	free(pg.modules.first);
	free(pg.modules.idx);
	free(pg.names.first);
	free(pg.names.idx);
	free(pg.evidence.first);
	free(pg.evidence.idx);
	sb_free(&out);
out:
	free(shown);
	free(flagged);
	hunt_free(&st.hu);
	dns_map_free(&st.dns);
	evidence_free(&st);
	history_free(&h);
	return rc;
}
