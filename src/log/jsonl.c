/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/jsonl.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "log/schema.h"
#include "util/escape.h"
#include "util/hex.h"
#include "util/log.h"

/*
 * Where each CSV column is in an ECS object (docs/FORMAT.md has the table):
 *
 *   time          @timestamp                 exe           process.executable (+ name)
 *   seq           event.sequence             cmdline       process.args (+ args_count,
 * command_line) event         event.action, lower case   proto         network.transport (+
 * iana_number) pid, ppid     process.pid, .parent.pid   src_ip/port   source.ip/.port guid
 * process.entity_id          dst_ip/port   destination.ip/.port parent_guid
 * process.parent.entity_id     ICMP:       onmitsu.icmp.type/.code uid           user.id direction
 * network.direction (egress/ingress) result        onmitsu.result             path          MODLOAD
 * dll.path (+ name), else file.path community_id  network.community_id       detail onmitsu.detail
 *   sha256        MODLOAD dll.hash.sha256,   cgroup        onmitsu.cgroup
 *                 else process.hash.sha256   container_id  container.id
 *   target_pid    onmitsu.target.pid         target_guid   onmitsu.target.entity_id
 *   dns_name      dns.question.name          dns_type      dns.question.type
 *   dns_answers   dns.answers [{type,data}]  chain         onmitsu.chain
 *
 * ECS fields hold the value itself (escapes undone); fields under onmitsu
 * hold the CSV text as it is. The rest is derived and not read back:
 * ecs.version, event.kind/category/type/outcome, host.*, process.name,
 * process.exit_code, dll.name, network.iana_number/type/protocol, dns.type,
 * dns.resolved_ip, dns.response_code.
 */

/* ---- writing nested objects ---- */

#define JW_DEPTH 6

struct jw {
	struct strbuf *out;
	int depth; /* objects open below the top one */
	const char *name[JW_DEPTH + 1];
	bool opened[JW_DEPTH + 1];
	bool first[JW_DEPTH + 1];
};

static void jw_init(struct jw *w, struct strbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->opened[0] = true;
	w->first[0] = true;
	sb_addc(out, '{');
}

static void jw_sep(struct jw *w, int level)
{
	if (w->first[level])
		w->first[level] = false;
	else
		sb_addc(w->out, ',');
}

/* An object, written only once a member is (empty objects are left out). */
static void jw_push(struct jw *w, const char *name)
{
	if (w->depth == JW_DEPTH)
		fatalx("internal error: JSON objects nested too deep");
	w->depth++;
	w->name[w->depth] = name;
	w->opened[w->depth] = false;
	w->first[w->depth] = true;
}

static void jw_open_pending(struct jw *w)
{
	for (int l = 1; l <= w->depth; l++) {
		if (w->opened[l])
			continue;
		jw_sep(w, l - 1);
		sb_addc(w->out, '"');
		sb_adds(w->out, w->name[l]);
		sb_add(w->out, "\":{", 3);
		w->opened[l] = true;
	}
}

static void jw_pop(struct jw *w)
{
	if (w->opened[w->depth])
		sb_addc(w->out, '}');
	w->depth--;
}

static void jw_key(struct jw *w, const char *key)
{
	jw_open_pending(w);
	jw_sep(w, w->depth);
	sb_addc(w->out, '"');
	sb_adds(w->out, key);
	sb_add(w->out, "\":", 2);
}

/* a value itself (raw bytes): escape_json_value. A value holding a NUL byte
 * (only a forged or damaged log has one) is left out: no reader of JSON
 * Lines, this one included, keeps a NUL in a string, so the CSV text goes to
 * onmitsu.exact instead. */
static void jw_value(struct jw *w, const char *key, const void *v, size_t n)
{
	if (memchr(v, '\0', n))
		return;
	jw_key(w, key);
	sb_addc(w->out, '"');
	escape_json_value(w->out, v, n);
	sb_addc(w->out, '"');
}

/* text as it is (CSV text, ASCII words) */
static void jw_text(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	sb_addc(w->out, '"');
	json_escape(w->out, s, strlen(s));
	sb_addc(w->out, '"');
}

static void jw_number(struct jw *w, const char *key, const char *digits)
{
	jw_key(w, key);
	sb_adds(w->out, digits);
}

void json_escape(struct strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_add(out, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			sb_addc(out, '\\');
			sb_addc(out, (char)c);
		} else {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			sb_add(out, u, sizeof(u));
		}
	}
	sb_add(out, s + run, n - run);
}

/* ---- the values ---- */

/* A number ECS's long takes as it is written: no sign, no leading zero, at most INT64_MAX. */
static bool canonical_long(const char *s)
{
	size_t n = strlen(s);
	uint64_t v;
	if (!log_parse_u64(s, n, &v) || v > INT64_MAX)
		return false;
	return n == 1 || s[0] != '0';
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool is_upper_word(const char *s)
{
	if (*s < 'A' || *s > 'Z')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool is_lower_word(const char *s, size_t n)
{
	if (n == 0 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* A path's ECS value: the bytes, after the mark "\..." (a backslash and
 * three dots, as in CSV) when the kernel's walk cut it. false when the text
 * is not a path's escape. */
#define CUT_VALUE PATH_CUT_MARK
static bool path_value(struct strbuf *v, const char *text)
{
	size_t n = strlen(text);
	bool cut;
	sb_reset(v);
	if (n >= PATH_CUT_MARK_LEN && memcmp(text, PATH_CUT_MARK, PATH_CUT_MARK_LEN) == 0)
		sb_adds(v, CUT_VALUE);
	return unescape_path(v, text, n, &cut) == 0;
}

/* Undo path_value: the CSV text of ECS path value v[0..n). */
static void path_text(struct strbuf *out, const char *v, size_t n)
{
	size_t m = PATH_CUT_MARK_LEN;
	if (n > m && memcmp(v, CUT_VALUE "/", m + 1) == 0)
		escape_path(out, v + m, n - m, true);
	else
		escape_text(out, v, n);
}

static const char *base_name(const char *v, size_t n, size_t *len)
{
	const char *slash = memrchr(v, '/', n);
	const char *b = slash ? slash + 1 : v;
	*len = n - (size_t)(b - v);
	return b;
}

struct transport {
	const char *csv, *ecs, *iana;
};
static const struct transport transports[] = {
    {"tcp", "tcp", "6"},
    {"udp", "udp", "17"},
    {"icmp", "icmp", "1"},
    {"icmpv6", "ipv6-icmp", "58"}, /* IANA's keyword for protocol 58 */
};

static const struct transport *transport_by_csv(const char *s)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (strcmp(s, transports[i].csv) == 0)
			return &transports[i];
	return NULL;
}

static bool is_icmp(const char *proto)
{
	return strcmp(proto, "icmp") == 0 || strcmp(proto, "icmpv6") == 0;
}

/* ECS categorisation of a record kind (ECS 8.x allowed values, tests/data/ecs/) */
struct ecs_kind {
	const char *kind;
	const char *category; /* NULL: none */
	const char *type;     /* NULL: none */
	const char *type2;    /* a second type, or NULL */
};

static struct ecs_kind ecs_kind_of(const char *event)
{
	struct ecs_kind k = {"event", NULL, NULL, NULL};
	int e = -1;
	for (int i = 0; i < OM_EVENT_COUNT; i++)
		if (strcmp(event, om_event_name((enum om_event)i)) == 0)
			e = i;
	switch (e) {
	case OM_EVENT_START: /* the recorder's own process, started or stopped */
	case OM_EVENT_FORK:
	case OM_EVENT_EXEC:
		k.category = "process";
		k.type = "start";
		break;
	case OM_EVENT_STOP:
	case OM_EVENT_EXIT:
		k.category = "process";
		k.type = "end";
		break;
	case OM_EVENT_EXISTING: /* a snapshot of what runs */
		k.kind = "state";
		k.category = "process";
		k.type = "info";
		break;
	case OM_EVENT_MODLOAD:
		k.category = "library";
		k.type = "start";
		break;
	case OM_EVENT_INJECT:
		k.category = "process";
		k.type = "access";
		break;
	case OM_EVENT_NET:
		k.category = "network";
		k.type = "connection";
		k.type2 = "start";
		break;
	case OM_EVENT_DNS:
		k.category = "network";
		k.type = "protocol";
		break;
	case OM_EVENT_LOST:
		k.kind = "metric";
		break;
	case OM_EVENT_CONFIG: /* the recorder's configuration was reloaded */
		k.category = "configuration";
		k.type = "change";
		break;
	case OM_EVENT_EVIDENCE: /* files kept of a process a rule fired for */
		k.category = "file";
		k.type = "creation";
		break;
	default: /* SEAL, and what this version does not know */
		break;
	}
	return k;
}

static const char *net_outcome(const char *result)
{
	static const char *const ok[] = {"established", "sent", "received"};
	static const char *const failed[] = {"refused", "timeout", "unreachable", "reset"};
	for (size_t i = 0; i < 3; i++)
		if (strcmp(result, ok[i]) == 0)
			return "success";
	for (size_t i = 0; i < 4; i++)
		if (strcmp(result, failed[i]) == 0)
			return "failure";
	return strncmp(result, "error:", 6) == 0 ? "failure" : NULL;
}

struct enc {
	struct jw w;
	const char *const *f;
	struct strbuf v, v2; /* scratch values */
};

#define F(c) (e->f[c] ? e->f[c] : "")

static void enc_long(struct enc *e, const char *key, int col)
{
	if (canonical_long(F(col)))
		jw_number(&e->w, key, F(col));
}

static void enc_text(struct enc *e, const char *key, int col)
{
	if (*F(col))
		jw_text(&e->w, key, F(col));
}

/* an escaped text column as its value */
static void enc_unescaped(struct enc *e, const char *key, int col)
{
	const char *t = F(col);
	sb_reset(&e->v);
	if (*t && unescape_text(&e->v, t, strlen(t)) == 0)
		jw_value(&e->w, key, e->v.data, e->v.len);
}

static void enc_path(struct enc *e, const char *key, const char *name_key, int col)
{
	if (!*F(col) || !path_value(&e->v, F(col)))
		return;
	jw_value(&e->w, key, e->v.data, e->v.len);
	size_t bl;
	const char *b = base_name(e->v.data, e->v.len, &bl);
	if (name_key && bl)
		jw_value(&e->w, name_key, b, bl);
}

static void enc_event(struct enc *e, const char *event)
{
	struct ecs_kind k = ecs_kind_of(event);
	jw_push(&e->w, "event");
	jw_text(&e->w, "kind", k.kind);
	if (k.category) {
		jw_key(&e->w, "category");
		sb_add(e->w.out, "[\"", 2);
		sb_adds(e->w.out, k.category);
		sb_add(e->w.out, "\"]", 2);
	}
	if (k.type) {
		jw_key(&e->w, "type");
		sb_add(e->w.out, "[\"", 2);
		sb_adds(e->w.out, k.type);
		if (k.type2) {
			sb_add(e->w.out, "\",\"", 3);
			sb_adds(e->w.out, k.type2);
		}
		sb_add(e->w.out, "\"]", 2);
	}
	if (is_upper_word(event)) {
		sb_reset(&e->v);
		for (const char *p = event; *p; p++)
			sb_addc(&e->v, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
		jw_text(&e->w, "action", e->v.data);
	} else if (*event) {
		jw_text(&e->w, "action", event);
	}
	if (strcmp(event, "NET") == 0) {
		const char *o = net_outcome(F(COL_RESULT));
		if (o)
			jw_text(&e->w, "outcome", o);
	}
	enc_long(e, "sequence", COL_SEQ);
	jw_pop(&e->w);
}

static void enc_host(struct enc *e, const struct jsonl_host *host)
{
	if (!host)
		return;
	jw_push(&e->w, "host");
	if (host->name && *host->name)
		jw_text(&e->w, "name", host->name);
	if (host->id && *host->id)
		jw_text(&e->w, "id", host->id);
	jw_push(&e->w, "boot");
	if (host->boot_id && *host->boot_id)
		jw_text(&e->w, "id", host->boot_id);
	jw_pop(&e->w);
	jw_pop(&e->w);
}

static void enc_args(struct enc *e)
{
	const char *t = F(COL_CMDLINE);
	sb_reset(&e->v);
	if (!*t || cmdline_decode(&e->v, t, strlen(t)) < 0)
		return;
	/* e->v: each argument NUL-terminated */
	jw_key(&e->w, "args");
	sb_addc(e->w.out, '[');
	size_t count = 0;
	sb_reset(&e->v2);
	for (size_t off = 0; off < e->v.len; count++) {
		size_t n = strlen(e->v.data + off);
		sb_add(e->w.out, count ? ",\"" : "\"", count ? 2 : 1);
		escape_json_value(e->w.out, e->v.data + off, n);
		sb_addc(e->w.out, '"');
		if (count)
			sb_addc(&e->v2, ' ');
		sb_add(&e->v2, e->v.data + off, n);
		off += n + 1;
	}
	sb_addc(e->w.out, ']');
	char num[24];
	snprintf(num, sizeof(num), "%zu", count);
	jw_number(&e->w, "args_count", num);
	/* the command line as ECS has it: the arguments joined by spaces */
	jw_value(&e->w, "command_line", e->v2.data, e->v2.len);
}

static void enc_process(struct enc *e, bool modload)
{
	jw_push(&e->w, "process");
	enc_long(e, "pid", COL_PID);
	enc_text(e, "entity_id", COL_GUID);
	enc_path(e, "executable", "name", COL_EXE);
	enc_args(e);
	/* EVIDENCE: sha256 is its manifest's, a file's (file.hash.sha256) */
	if (!modload && strcmp(F(COL_EVENT), "EVIDENCE") != 0) {
		jw_push(&e->w, "hash");
		enc_text(e, "sha256", COL_SHA256);
		jw_pop(&e->w);
	}
	const char *res = F(COL_RESULT);
	if (strcmp(F(COL_EVENT), "EXIT") == 0 && strncmp(res, "exit:", 5) == 0 &&
	    canonical_long(res + 5))
		jw_number(&e->w, "exit_code", res + 5);
	jw_push(&e->w, "parent");
	enc_long(e, "pid", COL_PPID);
	enc_text(e, "entity_id", COL_PARENT_GUID);
	jw_pop(&e->w);
	jw_pop(&e->w);
}

static void enc_endpoint(struct enc *e, const char *name, int ip, int port, bool icmp)
{
	jw_push(&e->w, name);
	if (valid_ip(F(ip)))
		jw_text(&e->w, "ip", F(ip));
	if (!icmp)
		enc_long(e, "port", port);
	jw_pop(&e->w);
}

static void enc_network(struct enc *e, bool dns)
{
	const char *proto = F(COL_PROTO);
	const struct transport *t = transport_by_csv(proto);
	jw_push(&e->w, "network");
	if (t) {
		jw_text(&e->w, "transport", t->ecs);
		jw_text(&e->w, "iana_number", t->iana);
	} else if (*proto) {
		jw_text(&e->w, "transport", proto);
	}
	const char *ip = valid_ip(F(COL_SRC_IP)) ? F(COL_SRC_IP) : F(COL_DST_IP);
	if (valid_ip(ip))
		jw_text(&e->w, "type", strchr(ip, ':') ? "ipv6" : "ipv4");
	/* a host's point of view: ECS's ingress and egress */
	const char *d = F(COL_DIRECTION);
	if (strcmp(d, "out") == 0)
		jw_text(&e->w, "direction", "egress");
	else if (strcmp(d, "in") == 0)
		jw_text(&e->w, "direction", "ingress"); /* (anything else is no ECS value) */
	enc_text(e, "community_id", COL_COMMUNITY_ID);
	if (dns)
		jw_text(&e->w, "protocol", "dns");
	jw_pop(&e->w);
}

/* dns_answers "TYPE value;TYPE value" as [{"type":..,"data":..}], and the
 * addresses of A and AAAA answers as dns.resolved_ip */
static void enc_dns_answers(struct enc *e)
{
	const char *t = F(COL_DNS_ANSWERS);
	if (!*t)
		return;
	jw_key(&e->w, "answers");
	sb_addc(e->w.out, '[');
	sb_reset(&e->v2); /* resolved_ip, as JSON */
	for (const char *p = t;;) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		const char *sp = memchr(p, ' ', n);
		size_t tn = sp ? (size_t)(sp - p) : n;
		sb_add(e->w.out, p == t ? "{" : ",{", p == t ? 1 : 2);
		bool member = false;
		if (tn) {
			sb_add(e->w.out, "\"type\":\"", 8);
			json_escape(e->w.out, p, tn);
			sb_addc(e->w.out, '"');
			member = true;
		}
		sb_reset(&e->v);
		if (sp && unescape_text(&e->v, sp + 1, n - tn - 1) == 0 &&
		    !memchr(e->v.data, '\0', e->v.len)) {
			sb_adds(e->w.out, member ? ",\"data\":\"" : "\"data\":\"");
			escape_json_value(e->w.out, e->v.data, e->v.len);
			sb_addc(e->w.out, '"');
			bool addr =
			    (tn == 1 && p[0] == 'A') || (tn == 4 && memcmp(p, "AAAA", 4) == 0);
			if (addr && valid_ip(e->v.data)) {
				sb_add(&e->v2, e->v2.len ? ",\"" : "\"", e->v2.len ? 2 : 1);
				sb_add(&e->v2, e->v.data, e->v.len);
				sb_addc(&e->v2, '"');
			}
		}
		sb_addc(e->w.out, '}');
		if (!semi)
			break;
		p = semi + 1;
	}
	sb_addc(e->w.out, ']');
	if (e->v2.len) {
		jw_key(&e->w, "resolved_ip");
		sb_addc(e->w.out, '[');
		sb_add(e->w.out, e->v2.data, e->v2.len);
		sb_addc(e->w.out, ']');
	}
}

static bool is_rcode(const char *s)
{
	return is_upper_word(s) && !strchr(s, '_');
}

static void enc_dns(struct enc *e, bool dns)
{
	jw_push(&e->w, "dns");
	/* a response has its code in result (NOERROR, NXDOMAIN, RCODE12), a query none */
	bool response = dns && is_rcode(F(COL_RESULT));
	if (dns)
		jw_text(&e->w, "type", response ? "answer" : "query");
	jw_push(&e->w, "question");
	enc_unescaped(e, "name", COL_DNS_NAME);
	enc_text(e, "type", COL_DNS_TYPE);
	jw_pop(&e->w);
	enc_dns_answers(e);
	if (response)
		jw_text(&e->w, "response_code", F(COL_RESULT));
	jw_pop(&e->w);
}

/* Everything but onmitsu's own members and the chain; leaves "onmitsu" open. */
static void enc_ecs(struct enc *e, const struct jsonl_host *host)
{
	const char *event = F(COL_EVENT);
	bool modload = strcmp(event, "MODLOAD") == 0, dns = strcmp(event, "DNS") == 0;
	uint64_t t;
	if (csv_parse_time(F(COL_TIME), &t) == 0)
		jw_text(&e->w, "@timestamp", F(COL_TIME));
	jw_push(&e->w, "ecs");
	jw_text(&e->w, "version", JSONL_ECS_VERSION);
	jw_pop(&e->w);
	enc_event(e, event);
	enc_host(e, host);
	enc_process(e, modload);
	jw_push(&e->w, "user");
	enc_text(e, "id", COL_UID);
	jw_pop(&e->w);
	jw_push(&e->w, "container");
	enc_text(e, "id", COL_CONTAINER_ID);
	jw_pop(&e->w);
	if (modload) {
		jw_push(&e->w, "dll");
		enc_path(e, "path", "name", COL_PATH);
		jw_push(&e->w, "hash");
		enc_text(e, "sha256", COL_SHA256);
		jw_pop(&e->w);
		jw_pop(&e->w);
	} else {
		jw_push(&e->w, "file");
		enc_path(e, "path", NULL, COL_PATH);
		if (strcmp(F(COL_EVENT), "EVIDENCE") == 0) {
			jw_push(&e->w, "hash");
			enc_text(e, "sha256", COL_SHA256);
			jw_pop(&e->w);
		}
		jw_pop(&e->w);
	}
	bool icmp = is_icmp(F(COL_PROTO));
	enc_endpoint(e, "source", COL_SRC_IP, COL_SRC_PORT, icmp);
	enc_endpoint(e, "destination", COL_DST_IP, COL_DST_PORT, icmp);
	enc_network(e, dns);
	enc_dns(e, dns);

	jw_push(&e->w, "onmitsu");
	enc_text(e, "result", COL_RESULT);
	enc_text(e, "detail", COL_DETAIL);
	enc_text(e, "cgroup", COL_CGROUP);
	if (icmp) {
		/* ECS 8.x has no ICMP fields: the type and code are onmitsu's */
		jw_push(&e->w, "icmp");
		enc_long(e, "type", COL_SRC_PORT);
		enc_long(e, "code", COL_DST_PORT);
		jw_pop(&e->w);
	}
	jw_push(&e->w, "target");
	enc_long(e, "pid", COL_TARGET_PID);
	enc_text(e, "entity_id", COL_TARGET_GUID);
	jw_pop(&e->w);
	jw_open_pending(&e->w); /* the chain is its last member, whatever comes before */
}

/* ---- reading: the members of a line, by their dotted path ---- */

/* The paths onmitsu reads. */
#define JSONL_PATHS(X)                                                                             \
	X(TIMESTAMP, "@timestamp")                                                                 \
	X(ECS_VERSION, "ecs.version")                                                              \
	X(ACTION, "event.action")                                                                  \
	X(SEQUENCE, "event.sequence")                                                              \
	X(HOST_NAME, "host.name")                                                                  \
	X(HOST_ID, "host.id")                                                                      \
	X(HOST_BOOT_ID, "host.boot.id")                                                            \
	X(PID, "process.pid")                                                                      \
	X(PPID, "process.parent.pid")                                                              \
	X(GUID, "process.entity_id")                                                               \
	X(PARENT_GUID, "process.parent.entity_id")                                                 \
	X(UID, "user.id")                                                                          \
	X(EXE, "process.executable")                                                               \
	X(ARGS, "process.args")                                                                    \
	X(TRANSPORT, "network.transport")                                                          \
	X(SRC_IP, "source.ip")                                                                     \
	X(SRC_PORT, "source.port")                                                                 \
	X(DST_IP, "destination.ip")                                                                \
	X(DST_PORT, "destination.port")                                                            \
	X(ICMP_TYPE, "onmitsu.icmp.type")                                                          \
	X(ICMP_CODE, "onmitsu.icmp.code")                                                          \
	X(DIRECTION, "network.direction")                                                          \
	X(RESULT, "onmitsu.result")                                                                \
	X(FILE_PATH, "file.path")                                                                  \
	X(DLL_PATH, "dll.path")                                                                    \
	X(COMMUNITY_ID, "network.community_id")                                                    \
	X(DETAIL, "onmitsu.detail")                                                                \
	X(PROCESS_SHA256, "process.hash.sha256")                                                   \
	X(DLL_SHA256, "dll.hash.sha256")                                                           \
	X(FILE_SHA256, "file.hash.sha256")                                                         \
	X(CGROUP, "onmitsu.cgroup")                                                                \
	X(CONTAINER_ID, "container.id")                                                            \
	X(TARGET_PID, "onmitsu.target.pid")                                                        \
	X(TARGET_GUID, "onmitsu.target.entity_id")                                                 \
	X(DNS_NAME, "dns.question.name")                                                           \
	X(DNS_TYPE, "dns.question.type")                                                           \
	X(DNS_ANSWER_TYPE, "dns.answers.type")                                                     \
	X(DNS_ANSWER_DATA, "dns.answers.data")                                                     \
	X(CHAIN, "onmitsu.chain")

/* clang-format off */
enum jpath {
#define JPATH_ENUM_(id, path) P_##id,
	JSONL_PATHS(JPATH_ENUM_)
#undef JPATH_ENUM_
	P_COUNT,
	P_FLAT = P_COUNT,	      /* + column: the flat key of logs before 0.3 (schema.h's json_key) */
	P_EXACT = P_FLAT + COL_COUNT, /* + column: onmitsu.exact.COLUMN */
	P_ALL = P_EXACT + COL_COUNT
};
/* clang-format on */

static const char *const jpath_names[P_COUNT] = {
#define JPATH_NAME_(id, path) path,
    JSONL_PATHS(JPATH_NAME_)
#undef JPATH_NAME_
};

struct known_path {
	const char *path;
	int id;
};
static struct known_path known[P_ALL];
static char exact_names[COL_COUNT][64];
static pthread_once_t known_once = PTHREAD_ONCE_INIT;

static int known_cmp(const void *a, const void *b)
{
	const struct known_path *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : x->id - y->id;
}

static void known_init(void)
{
	int n = 0;
	for (int i = 0; i < P_COUNT; i++)
		known[n++] = (struct known_path){jpath_names[i], i};
	for (int c = 0; c < COL_COUNT; c++) {
		known[n++] = (struct known_path){log_columns[c].json_key, P_FLAT + c};
		snprintf(exact_names[c], sizeof(exact_names[c]), "onmitsu.exact.%s",
			 log_columns[c].name);
		known[n++] = (struct known_path){exact_names[c], P_EXACT + c};
	}
	qsort(known, (size_t)n, sizeof(known[0]), known_cmp);
}

/* A member found: its path, its value (NUL-terminated, in the store) and,
 * in an array, its index there. */
struct jent {
	uint32_t path, val, len;
	int32_t idx; /* -1: not in an array */
	uint8_t type;
};
enum { J_STRING, J_NUMBER, J_LITERAL };

#define JSON_DEPTH_MAX 16
#define JSON_PATH_MAX 256

struct jparse {
	const char *p, *end;
	struct jsonl_store *st;
	int32_t slot[P_ALL];	   /* the last member of each known path outside arrays */
	int32_t arr_first[P_ALL];  /* the first array member of it, -1 */
	uint32_t arr_count[P_ALL]; /* and how many there are */
	bool contiguous[P_ALL];	   /* ... one after the other */
};

void jsonl_store_free(struct jsonl_store *s)
{
	sb_free(&s->text);
	sb_free(&s->ents);
}

static void skip_ws(struct jparse *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static void put_utf8(struct strbuf *out, uint32_t cp)
{
	if (cp < 0x80) {
		sb_addc(out, (char)cp);
	} else if (cp < 0x800) {
		sb_addc(out, (char)(0xc0 | cp >> 6));
		sb_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sb_addc(out, (char)(0xe0 | cp >> 12));
		sb_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		sb_addc(out, (char)(0xf0 | cp >> 18));
		sb_addc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		sb_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(out, (char)(0x80 | (cp & 0x3f)));
	}
}

static int hex4(const char *p, const char *end, uint32_t *v)
{
	if (end - p < 4)
		return -1;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);
		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* a JSON string at j->p (after its opening quote) -> out; NUL-terminated */
static int parse_string(struct jparse *j, struct strbuf *out)
{
	const char *p = j->p, *end = j->end;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			const char *q = p + 1;
			while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
				q++;
			sb_add(out, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (++p == end)
			return -1;
		char e = *p++;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			sb_addc(out, e);
			break;
		case 'b':
			sb_addc(out, '\b');
			break;
		case 'f':
			sb_addc(out, '\f');
			break;
		case 'n':
			sb_addc(out, '\n');
			break;
		case 'r':
			sb_addc(out, '\r');
			break;
		case 't':
			sb_addc(out, '\t');
			break;
		case 'u': {
			uint32_t cp;
			if (hex4(p, end, &cp) != 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u') {
				uint32_t lo;
				if (hex4(p + 2, end, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp == 0)
				return -1; /* no field can hold a NUL */
			put_utf8(out, cp);
			break;
		}
		default:
			return -1;
		}
	}
	if (p == end)
		return -1;
	j->p = p + 1;
	sb_addc(out, '\0');
	return 0;
}

static void note_member(struct jparse *j, uint32_t path, uint32_t val, uint32_t len, int32_t idx,
			uint8_t type)
{
	struct jent ent = {path, val, len, idx, type};
	int32_t n = (int32_t)(j->st->ents.len / sizeof(ent));
	sb_add(&j->st->ents, &ent, sizeof(ent));
	const char *key = j->st->text.data + path;
	/* the first known path equal to it, then the others */
	size_t lo = 0, hi = P_ALL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(known[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < P_ALL && strcmp(known[lo].path, key) == 0; lo++) {
		int id = known[lo].id;
		if (idx < 0) {
			j->slot[id] = n;
		} else {
			if (j->arr_first[id] < 0) {
				j->arr_first[id] = n;
				j->contiguous[id] = true;
			} else if (j->contiguous[id]) {
				struct jent *prev = (struct jent *)j->st->ents.data + n - 1;
				j->contiguous[id] = prev->idx >= 0 &&
						    strcmp(j->st->text.data + prev->path, key) == 0;
			}
			j->arr_count[id]++;
		}
	}
}

static int parse_value(struct jparse *j, uint32_t path, int32_t idx, int depth);

/* a member's path: prefix "." key */
static int child_path(struct jparse *j, uint32_t prefix, uint32_t key, uint32_t *out)
{
	struct strbuf *t = &j->st->text;
	size_t pl = strlen(t->data + prefix), kl = strlen(t->data + key);
	if (pl + 1 + kl > JSON_PATH_MAX)
		return -1;
	*out = (uint32_t)t->len;
	sb_reserve(t, pl + kl + 2);
	if (pl) {
		sb_add(t, t->data + prefix, pl);
		sb_addc(t, '.');
	}
	sb_add(t, t->data + key, kl);
	sb_addc(t, '\0');
	return 0;
}

static int parse_object(struct jparse *j, uint32_t path, int32_t idx, int depth)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		skip_ws(j);
		if (j->p == j->end || *j->p++ != '"')
			return -1;
		uint32_t key = (uint32_t)j->st->text.len, child;
		if (parse_string(j, &j->st->text) != 0 || child_path(j, path, key, &child) != 0)
			return -1;
		skip_ws(j);
		if (j->p == j->end || *j->p++ != ':')
			return -1;
		if (parse_value(j, child, idx, depth + 1) != 0)
			return -1;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int parse_array(struct jparse *j, uint32_t path, int depth)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (int32_t i = 0;; i++) {
		if (i == INT32_MAX || parse_value(j, path, i, depth + 1) != 0)
			return -1;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int parse_value(struct jparse *j, uint32_t path, int32_t idx, int depth)
{
	if (depth > JSON_DEPTH_MAX)
		return -1;
	skip_ws(j);
	if (j->p == j->end)
		return -1;
	struct strbuf *t = &j->st->text;
	char c = *j->p;
	if (c == '{') {
		j->p++;
		return parse_object(j, path, idx, depth);
	}
	if (c == '[') {
		if (idx >= 0)
			return -1; /* arrays in arrays: not onmitsu's */
		j->p++;
		return parse_array(j, path, depth);
	}
	uint32_t val = (uint32_t)t->len;
	uint8_t type;
	if (c == '"') {
		j->p++;
		if (parse_string(j, t) != 0)
			return -1;
		type = J_STRING;
	} else {
		const char *q = j->p;
		while (q < j->end &&
		       ((*q >= '0' && *q <= '9') || *q == '-' || *q == '+' || *q == '.' ||
			*q == 'e' || *q == 'E' || (*q >= 'a' && *q <= 'z')))
			q++;
		size_t n = (size_t)(q - j->p);
		if (n == 0)
			return -1;
		bool literal = (n == 4 && memcmp(j->p, "true", 4) == 0) ||
			       (n == 5 && memcmp(j->p, "false", 5) == 0) ||
			       (n == 4 && memcmp(j->p, "null", 4) == 0);
		if (!literal && !(c == '-' || (c >= '0' && c <= '9')))
			return -1;
		sb_add(t, j->p, n);
		sb_addc(t, '\0');
		j->p = q;
		type = literal ? J_LITERAL : J_NUMBER;
	}
	note_member(j, path, val, (uint32_t)(t->len - val - 1), idx, type);
	return 0;
}

static const struct jent *ent_at(const struct jparse *j, int32_t i)
{
	return (const struct jent *)j->st->ents.data + i;
}

/* The value of a known path outside arrays (strings and numbers), or NULL. */
static const char *get(const struct jparse *j, int id, size_t *len)
{
	if (j->slot[id] < 0)
		return NULL;
	const struct jent *e = ent_at(j, j->slot[id]);
	if (e->type == J_LITERAL)
		return NULL;
	if (len)
		*len = e->len;
	return j->st->text.data + e->val;
}

/* ---- from the members back to the CSV text ---- */

struct dec {
	const struct jparse *j;
	struct strbuf *out; /* the fields' text, NUL-separated */
	size_t off[COL_COUNT + 1];
	struct strbuf v;
};

/* start a column's text */
static void col_begin(struct dec *d, int c)
{
	d->off[c] = d->out->len;
}

static void col_end(struct dec *d)
{
	sb_addc(d->out, '\0');
}

static void col_copy(struct dec *d, int c, int id)
{
	size_t n;
	const char *v = get(d->j, id, &n);
	col_begin(d, c);
	if (v)
		sb_add(d->out, v, n);
	col_end(d);
}

static void col_path(struct dec *d, int c, int id)
{
	size_t n;
	const char *v = get(d->j, id, &n);
	col_begin(d, c);
	if (v)
		path_text(d->out, v, n);
	col_end(d);
}

static void col_escaped(struct dec *d, int c, int id)
{
	size_t n;
	const char *v = get(d->j, id, &n);
	col_begin(d, c);
	if (v)
		escape_text(d->out, v, n);
	col_end(d);
}

static void col_either(struct dec *d, int c, int a, int b)
{
	col_copy(d, c, get(d->j, a, NULL) ? a : b);
}

static void col_event(struct dec *d)
{
	size_t n;
	const char *v = get(d->j, P_ACTION, &n);
	col_begin(d, COL_EVENT);
	if (v && is_lower_word(v, n)) {
		for (size_t i = 0; i < n; i++)
			sb_addc(d->out,
				(char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i]));
	} else if (v) {
		sb_add(d->out, v, n);
	}
	col_end(d);
}

static void col_transport(struct dec *d)
{
	size_t n;
	const char *v = get(d->j, P_TRANSPORT, &n);
	col_begin(d, COL_PROTO);
	if (v && strcmp(v, "ipv6-icmp") == 0)
		sb_adds(d->out, "icmpv6");
	else if (v)
		sb_add(d->out, v, n);
	col_end(d);
}

static void col_direction(struct dec *d)
{
	size_t n;
	const char *v = get(d->j, P_DIRECTION, &n);
	col_begin(d, COL_DIRECTION);
	if (v && strcmp(v, "egress") == 0)
		sb_adds(d->out, "out");
	else if (v && strcmp(v, "ingress") == 0)
		sb_adds(d->out, "in");
	else if (v)
		sb_add(d->out, v, n);
	col_end(d);
}

static void col_cmdline(struct dec *d)
{
	const struct jparse *j = d->j;
	col_begin(d, COL_CMDLINE);
	int32_t first = j->arr_first[P_ARGS];
	if (first >= 0 && j->contiguous[P_ARGS]) {
		sb_reset(&d->v);
		for (uint32_t i = 0; i < j->arr_count[P_ARGS]; i++) {
			const struct jent *e = ent_at(j, first + (int32_t)i);
			sb_add(&d->v, j->st->text.data + e->val, e->len);
			sb_addc(&d->v, '\0');
		}
		cmdline_encode(d->out, d->v.data, d->v.len);
	}
	col_end(d);
}

/* dns.answers back to "TYPE value;TYPE value" */
static void col_dns_answers(struct dec *d)
{
	const struct jparse *j = d->j;
	col_begin(d, COL_DNS_ANSWERS);
	if (j->arr_first[P_DNS_ANSWER_TYPE] >= 0 || j->arr_first[P_DNS_ANSWER_DATA] >= 0) {
		int32_t n = (int32_t)(j->st->ents.len / sizeof(struct jent)), last = -1;
		for (int32_t i = 0; i < n; i++) {
			const struct jent *e = ent_at(j, i);
			if (e->idx < 0)
				continue;
			const char *path = j->st->text.data + e->path;
			bool type = strcmp(path, "dns.answers.type") == 0;
			if (!type && strcmp(path, "dns.answers.data") != 0)
				continue;
			if (e->idx != last && last >= 0)
				sb_addc(d->out, ';');
			const char *v = j->st->text.data + e->val;
			if (type) {
				sb_add(d->out, v, e->len);
			} else {
				sb_addc(d->out, ' ');
				escape_text(d->out, v, e->len);
			}
			last = e->idx;
		}
	}
	col_end(d);
}

/* the ECS object's columns */
static void columns_ecs(struct dec *d)
{
	const struct jparse *j = d->j;
	bool icmp_ports = j->slot[P_ICMP_TYPE] >= 0 || j->slot[P_ICMP_CODE] >= 0;
	for (int c = 0; c < COL_COUNT; c++) {
		if (j->slot[P_EXACT + c] >= 0) {
			col_copy(d, c, P_EXACT + c);
			continue;
		}
		switch (c) {
		case COL_TIME:
			col_copy(d, c, P_TIMESTAMP);
			break;
		case COL_SEQ:
			col_copy(d, c, P_SEQUENCE);
			break;
		case COL_EVENT:
			col_event(d);
			break;
		case COL_PID:
			col_copy(d, c, P_PID);
			break;
		case COL_PPID:
			col_copy(d, c, P_PPID);
			break;
		case COL_GUID:
			col_copy(d, c, P_GUID);
			break;
		case COL_PARENT_GUID:
			col_copy(d, c, P_PARENT_GUID);
			break;
		case COL_UID:
			col_copy(d, c, P_UID);
			break;
		case COL_EXE:
			col_path(d, c, P_EXE);
			break;
		case COL_CMDLINE:
			col_cmdline(d);
			break;
		case COL_PROTO:
			col_transport(d);
			break;
		case COL_SRC_IP:
			col_copy(d, c, P_SRC_IP);
			break;
		case COL_SRC_PORT:
			col_copy(d, c, icmp_ports ? P_ICMP_TYPE : P_SRC_PORT);
			break;
		case COL_DST_IP:
			col_copy(d, c, P_DST_IP);
			break;
		case COL_DST_PORT:
			col_copy(d, c, icmp_ports ? P_ICMP_CODE : P_DST_PORT);
			break;
		case COL_DIRECTION:
			col_direction(d);
			break;
		case COL_RESULT:
			col_copy(d, c, P_RESULT);
			break;
		case COL_PATH:
			col_path(d, c, get(j, P_DLL_PATH, NULL) ? P_DLL_PATH : P_FILE_PATH);
			break;
		case COL_COMMUNITY_ID:
			col_copy(d, c, P_COMMUNITY_ID);
			break;
		case COL_DETAIL:
			col_copy(d, c, P_DETAIL);
			break;
		case COL_SHA256:
			col_either(d, c, P_DLL_SHA256,
				   get(j, P_FILE_SHA256, NULL) ? P_FILE_SHA256 : P_PROCESS_SHA256);
			break;
		case COL_CGROUP:
			col_copy(d, c, P_CGROUP);
			break;
		case COL_CONTAINER_ID:
			col_copy(d, c, P_CONTAINER_ID);
			break;
		case COL_TARGET_PID:
			col_copy(d, c, P_TARGET_PID);
			break;
		case COL_TARGET_GUID:
			col_copy(d, c, P_TARGET_GUID);
			break;
		case COL_DNS_NAME:
			col_escaped(d, c, P_DNS_NAME);
			break;
		case COL_DNS_TYPE:
			col_copy(d, c, P_DNS_TYPE);
			break;
		case COL_DNS_ANSWERS:
			col_dns_answers(d);
			break;
		default:
			/* a column without its place here: test_jsonl.c fails */
			col_begin(d, c);
			col_end(d);
			break;
		}
	}
}

/* a flat object of onmitsu before 0.3: the CSV text under schema.h's keys */
static void columns_flat(struct dec *d)
{
	for (int c = 0; c < COL_COUNT; c++) {
		if (c == COL_DIRECTION) {
			size_t n;
			const char *v = get(d->j, P_FLAT + c, &n);
			col_begin(d, c);
			if (v && strcmp(v, "outbound") == 0)
				sb_adds(d->out, "out");
			else if (v && strcmp(v, "inbound") == 0)
				sb_adds(d->out, "in");
			else if (v)
				sb_add(d->out, v, n);
			col_end(d);
			continue;
		}
		col_copy(d, c, P_FLAT + c);
	}
}

/* Parse line into j (members and their paths); -1 when it is no JSON object. */
static int parse_line(struct jparse *j, const char *line, size_t len, struct jsonl_store *st)
{
	pthread_once(&known_once, known_init);
	j->p = line;
	j->end = line + len;
	j->st = st;
	for (int i = 0; i < P_ALL; i++) {
		j->slot[i] = j->arr_first[i] = -1;
		j->arr_count[i] = 0;
		j->contiguous[i] = false;
	}
	sb_reset(&st->text);
	sb_reset(&st->ents);
	sb_addc(&st->text, '\0'); /* offset 0: the empty string, the root's path */
	skip_ws(j);
	if (j->p == j->end || *j->p++ != '{')
		return -1;
	if (parse_object(j, 0, -1, 1) != 0)
		return -1;
	skip_ws(j);
	return j->p == j->end ? 0 : -1;
}

/* The columns of a parsed line into text (NUL-separated), offsets in off. */
static int line_columns(const struct jparse *j, struct strbuf *text, size_t off[COL_COUNT + 1])
{
	struct dec d = {.j = j, .out = text};
	bool ecs = j->slot[P_ECS_VERSION] >= 0;
	if (ecs)
		columns_ecs(&d);
	else
		columns_flat(&d);
	col_copy(&d, COL_COUNT, P_CHAIN);
	memcpy(off, d.off, sizeof(d.off));
	sb_free(&d.v);
	return ecs ? JSONL_ECS : JSONL_FLAT;
}

int jsonl_decode(const char *line, size_t len, struct jsonl_store *store, const char **fields,
		 struct jsonl_host *host)
{
	struct jparse jp, *j = &jp;
	int kind = JSONL_BAD;
	if (parse_line(j, line, len, store) == 0) {
		/* the columns go after the members' text, which the lookups point into */
		size_t base = store->text.len;
		size_t off[COL_COUNT + 1];
		struct strbuf cols = STRBUF_INIT;
		kind = line_columns(j, &cols, off);
		sb_add(&store->text, cols.data, cols.len);
		sb_free(&cols);
		for (int i = 0; i <= COL_COUNT; i++)
			fields[i] = store->text.data + base + off[i];
		if (host) {
			size_t n;
			const char *v;
			host->name = (v = get(j, P_HOST_NAME, &n)) ? v : "";
			host->id = (v = get(j, P_HOST_ID, &n)) ? v : "";
			host->boot_id = (v = get(j, P_HOST_BOOT_ID, &n)) ? v : "";
		}
	}
	return kind;
}

/* ---- encoding, with the check that it gives the text back ---- */

void jsonl_encode_fields(struct strbuf *out, const char *const *f, const struct jsonl_host *host,
			 const char *chain)
{
	size_t start = out->len;
	struct enc e = {.f = f};
	jw_init(&e.w, out);
	enc_ecs(&e, host);

	/* read back what was written; where a column does not come back byte
	 * for byte, its CSV text goes to onmitsu.exact */
	struct jsonl_store st = {STRBUF_INIT, STRBUF_INIT};
	struct strbuf copy = STRBUF_INIT, cols = STRBUF_INIT;
	sb_add(&copy, out->data + start, out->len - start);
	sb_add(&copy, "}}", 2);
	struct jparse jp, *j = &jp;
	if (parse_line(j, copy.data, copy.len, &st) != 0)
		fatalx("internal error: a JSON Lines record that does not parse");
	size_t off[COL_COUNT + 1];
	line_columns(j, &cols, off);
	jw_push(&e.w, "exact");
	for (int c = 0; c < COL_COUNT; c++) {
		const char *want = f[c] ? f[c] : "";
		if (strcmp(cols.data + off[c], want) != 0)
			jw_text(&e.w, log_columns[c].name, want);
	}
	jw_pop(&e.w);
	jsonl_store_free(&st);
	sb_free(&copy);
	sb_free(&cols);
	sb_free(&e.v);
	sb_free(&e.v2);

	if (chain)
		jsonl_add_chain(out, start, chain, strlen(chain));
}

void jsonl_add_chain(struct strbuf *out, size_t body_start, const char *chain, size_t len)
{
	/* the onmitsu object stays, even empty: the body of a line without its
	 * chain value is the line without its closing "}}" (log/chain.h) */
	if (len) {
		if (out->len > body_start && out->data[out->len - 1] != '{')
			sb_addc(out, ',');
		sb_adds(out, JSONL_CHAIN_MEMBER);
		json_escape(out, chain, len);
		sb_addc(out, '"');
	}
	sb_add(out, "}}\n", 3);
}
