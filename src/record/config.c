/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "onmitsu/event.h"
#include "record/evidence.h"
#include "record/filehash.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/safefile.h"

static const char *const setting_names[CFG_S_COUNT] = {
    [CFG_S_LOG_DIR] = "log-dir",
    [CFG_S_FORMAT] = "format",
    [CFG_S_ROTATE_SIZE] = "rotate-size",
    [CFG_S_ROTATE_AGE] = "rotate-age",
    [CFG_S_KEEP_SIZE] = "keep-size",
    [CFG_S_KEEP_AGE] = "keep-age",
    [CFG_S_COMPRESS] = "compress-level",
    [CFG_S_SEAL_KEY] = "seal-key",
    [CFG_S_SEAL_INTERVAL] = "seal-interval",
    [CFG_S_SYSLOG] = "syslog",
    [CFG_S_RING_SIZE] = "ring-size",
    [CFG_S_CMDLINE_MAX] = "cmdline-max",
    [CFG_S_HASH_MAX] = "hash-max",
    [CFG_S_EVIDENCE_MAX] = "evidence-max",
    [CFG_S_EVIDENCE_EXE_MAX] = "evidence-exe-max",
    [CFG_S_EVIDENCE_RULES] = "evidence-rules",
    [CFG_S_EVIDENCE_ENVIRON] = "evidence-environ",
};

/* the writer's option for each of its settings */
static const int setting_opt[CFG_S_COUNT] = {
    [CFG_S_FORMAT] = LOG_OPT_FORMAT,	     [CFG_S_ROTATE_SIZE] = LOG_OPT_ROTATE_SIZE,
    [CFG_S_ROTATE_AGE] = LOG_OPT_ROTATE_AGE, [CFG_S_KEEP_SIZE] = LOG_OPT_KEEP_SIZE,
    [CFG_S_KEEP_AGE] = LOG_OPT_KEEP_AGE,     [CFG_S_COMPRESS] = LOG_OPT_COMPRESS,
    [CFG_S_SEAL_KEY] = LOG_OPT_SEAL_KEY,     [CFG_S_SEAL_INTERVAL] = LOG_OPT_SEAL_INTERVAL,
    [CFG_S_SYSLOG] = LOG_OPT_SYSLOG,
};

const char *cfg_setting_name(enum cfg_setting s)
{
	return (unsigned)s < CFG_S_COUNT ? setting_names[s] : "?";
}

bool cfg_setting_reloadable(enum cfg_setting s)
{
	switch (s) {
	case CFG_S_ROTATE_SIZE:
	case CFG_S_ROTATE_AGE:
	case CFG_S_KEEP_SIZE:
	case CFG_S_KEEP_AGE:
	case CFG_S_COMPRESS:
	case CFG_S_SEAL_INTERVAL:
		return true;
	default:
		return false;
	}
}

static const char *const field_names[CFG_F_COUNT] = {
    [CFG_F_EVENT] = "event",
    [CFG_F_UID] = "uid",
    [CFG_F_EXE] = "exe",
    [CFG_F_EXE_PREFIX] = "exe-prefix",
    [CFG_F_PARENT_EXE] = "parent-exe",
    [CFG_F_PARENT_EXE_PREFIX] = "parent-exe-prefix",
    [CFG_F_CGROUP] = "cgroup",
    [CFG_F_DST] = "dst",
    [CFG_F_PORT] = "port",
    [CFG_F_DIRECTION] = "direction",
    [CFG_F_PROTO] = "proto",
};

const char *cfg_field_name(enum cfg_field f)
{
	return (unsigned)f < CFG_F_COUNT ? field_names[f] : "?";
}

void record_settings_init(struct record_settings *r)
{
	memset(r, 0, sizeof(*r));
	r->dir = RECORD_DEFAULT_LOG_DIR;
	log_settings_init(&r->ls);
	r->ring = RECORD_DEFAULT_RING_BYTES;
	r->cmdline_max = OM_CMDLINE_DEFAULT;
	r->hash_max = HASH_DEFAULT_MAX;
	r->evidence_max = EVIDENCE_DEFAULT_MAX;
	r->evidence_exe_max = EVIDENCE_DEFAULT_EXE_MAX;
	r->evidence_rules = EV_RULES_ALL;
	r->evidence_environ = EV_ENV_REDACTED;
}

int record_setting_set(struct record_settings *r, enum cfg_setting s, const char *value, char *err,
		       size_t errsize)
{
	uint64_t v;
	switch (s) {
	case CFG_S_LOG_DIR:
		if (!*value || value[0] == '-') {
			snprintf(err, errsize,
				 "want a directory (the log is a directory of segments), "
				 "e.g. /var/log/onmitsu");
			return -1;
		}
		r->dir = value;
		return 0;
	case CFG_S_RING_SIZE:
		if (parse_size(value, &v) != 0 || v < 65536 || v > (1u << 30) || (v & (v - 1))) {
			snprintf(err, errsize, "want a power of two from 64K to 1G, e.g. 8M");
			return -1;
		}
		r->ring = v;
		return 0;
	case CFG_S_CMDLINE_MAX:
		if (parse_size(value, &v) != 0 || v < 64 || v > OM_CMDLINE_MAX) {
			snprintf(err, errsize, "want 64..%u bytes", OM_CMDLINE_MAX);
			return -1;
		}
		r->cmdline_max = v;
		return 0;
	case CFG_S_HASH_MAX:
		if (parse_size(value, &v) != 0 || v > (1ull << 40)) {
			snprintf(err, errsize,
				 "want bytes up to 1T, e.g. 64M, or 0 for no hashing");
			return -1;
		}
		r->hash_max = v;
		return 0;
	case CFG_S_EVIDENCE_MAX:
	case CFG_S_EVIDENCE_EXE_MAX:
		if (parse_size(value, &v) != 0 || v > (1ull << 40)) {
			snprintf(err, errsize, "want bytes up to 1T, e.g. %s",
				 s == CFG_S_EVIDENCE_MAX ? "256M, or 0 to keep no evidence"
							 : "32M");
			return -1;
		}
		if (s == CFG_S_EVIDENCE_MAX)
			r->evidence_max = v;
		else
			r->evidence_exe_max = v;
		return 0;
	case CFG_S_EVIDENCE_RULES: {
		unsigned rules;
		if (ev_rules_parse(value, &rules) != 0) {
			snprintf(err, errsize,
				 "want a comma-separated list of suspicious-exe-net, inject, "
				 "reverse-shell, or none");
			return -1;
		}
		r->evidence_rules = rules;
		return 0;
	}
	case CFG_S_EVIDENCE_ENVIRON:
		if (strcmp(value, "redacted") == 0)
			r->evidence_environ = EV_ENV_REDACTED;
		else if (strcmp(value, "full") == 0)
			r->evidence_environ = EV_ENV_FULL;
		else if (strcmp(value, "none") == 0)
			r->evidence_environ = EV_ENV_NONE;
		else {
			snprintf(err, errsize, "want redacted, full or none");
			return -1;
		}
		return 0;
	default:
		if ((unsigned)s >= CFG_S_COUNT ||
		    log_settings_set(&r->ls, setting_opt[s], value, err, errsize) != 1)
			return -1;
		return 0;
	}
}

void config_init(struct om_config *c)
{
	memset(c, 0, sizeof(*c));
}

static void strings_free(struct cfg_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

void config_free(struct om_config *c)
{
	free(c->name);
	for (int i = 0; i < CFG_S_COUNT; i++)
		free(c->value[i]);
	for (size_t i = 0; i < c->nrules; i++) {
		struct cfg_rule *r = &c->rules[i];
		free(r->uids);
		strings_free(&r->exe);
		strings_free(&r->exe_prefix);
		strings_free(&r->parent_exe);
		strings_free(&r->parent_exe_prefix);
		strings_free(&r->cgroup);
		free(r->dst);
		free(r->port_lo);
		free(r->port_hi);
	}
	config_init(c);
}

/* ---------------------------------------------------------------- parsing */

struct parser {
	struct om_config *c;
	const char *name;
	unsigned line;
	char *err;
	size_t errsize;
	struct cfg_rule *rule; /* the current rule section, or NULL */
	bool in_record;	       /* under [record] */
	bool record_seen;      /* [record] was given */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errsize, "%s:%u: ", p->name, p->line);
	if (n < 0 || (size_t)n >= p->errsize)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* s[0..*len) without blanks at either end */
static const char *trim(const char *s, size_t *len)
{
	while (*len && is_space(*s))
		s++, (*len)--;
	while (*len && is_space(s[*len - 1]))
		(*len)--;
	return s;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		fatal("out of memory");
	return d;
}

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/* "[record]", "[exclude NAME]", "[include NAME]" */
static int section(struct parser *p, const char *s, size_t n)
{
	if (n < 2 || s[n - 1] != ']')
		return fail(p, "a section line must end with ']'");
	s++;
	n -= 2;
	s = trim(s, &n);
	p->rule = NULL;
	p->in_record = false;
	if (n == 6 && memcmp(s, "record", 6) == 0) {
		if (p->record_seen)
			return fail(p, "duplicate section [record]");
		p->record_seen = p->in_record = true;
		return 0;
	}
	bool include;
	size_t kw;
	if (n > 8 && memcmp(s, "exclude", 7) == 0 && is_space(s[7])) {
		include = false;
		kw = 7;
	} else if (n > 8 && memcmp(s, "include", 7) == 0 && is_space(s[7])) {
		include = true;
		kw = 7;
	} else {
		return fail(p,
			    "unknown section [%.*s]: want [record], [exclude NAME] or "
			    "[include NAME]",
			    (int)(n > 64 ? 64 : n), s);
	}
	size_t nl = n - kw;
	const char *nm = trim(s + kw, &nl);
	if (!name_ok(nm, nl))
		return fail(p,
			    "bad rule name \"%.*s\": want 1 to %d letters, digits, '_', '-' or "
			    "'.'",
			    (int)(nl > 64 ? 64 : nl), nm, CFG_NAME_MAX);
	for (size_t i = 0; i < p->c->nrules; i++)
		if (strlen(p->c->rules[i].name) == nl && memcmp(p->c->rules[i].name, nm, nl) == 0)
			return fail(p, "duplicate rule name \"%.*s\" (first at line %u)", (int)nl,
				    nm, p->c->rules[i].line);
	if (p->c->nrules >= CFG_MAX_RULES)
		return fail(p, "too many rules: at most %d", CFG_MAX_RULES);
	struct cfg_rule *r = &p->c->rules[p->c->nrules++];
	memcpy(r->name, nm, nl);
	r->name[nl] = '\0';
	r->include = include;
	r->line = p->line;
	p->rule = r;
	return 0;
}

/* Split v (NUL-terminated) at commas into trimmed items; calls fn for each. */
typedef int (*item_fn)(struct parser *p, struct cfg_rule *r, const char *item, size_t n);

static int each_item(struct parser *p, struct cfg_rule *r, const char *v, const char *key,
		     item_fn fn)
{
	size_t count = 0;
	const char *s = v;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		const char *item = trim(s, &n);
		if (n == 0)
			return fail(p, "%s: an empty value in the list", key);
		if (++count > CFG_MAX_VALUES)
			return fail(p, "%s: more than %d values", key, CFG_MAX_VALUES);
		if (fn(p, r, item, n) != 0)
			return -1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static int item_event(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	for (int e = 0; e < OM_EVENT_COUNT; e++) {
		const char *nm = om_event_name(e);
		if (strlen(nm) != n || strncasecmp(nm, s, n) != 0)
			continue;
		if (!(CFG_FILTERABLE & (1u << e)))
			return fail(p,
				    "event: %s cannot be filtered (FORK and EXIT keep the process "
				    "tree whole; the recorder's own records are always written); "
				    "want EXEC, EXISTING, MODLOAD, NET, DNS or INJECT",
				    nm);
		r->events |= 1u << e;
		return 0;
	}
	return fail(p,
		    "event: unknown kind \"%.*s\": want EXEC, EXISTING, MODLOAD, NET, DNS or "
		    "INJECT",
		    (int)(n > 64 ? 64 : n), s);
}

static int item_uid(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 0xfffffffeull / 10)
			return fail(p,
				    "uid: bad value \"%.*s\": want a number from 0 to 4294967294",
				    (int)(n > 64 ? 64 : n), s);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > 0xfffffffeull)
		return fail(p, "uid: bad value \"%.*s\": want a number from 0 to 4294967294",
			    (int)n, s);
	r->uids = realloc(r->uids, (r->nuids + 1) * sizeof(*r->uids));
	if (!r->uids)
		fatal("out of memory");
	r->uids[r->nuids++] = (uint32_t)v;
	return 0;
}

static int add_string(struct cfg_strings *l, const char *s, size_t n)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!l->v)
		fatal("out of memory");
	l->v[l->n++] = xstrndup(s, n);
	return 0;
}

static int check_path(struct parser *p, const char *key, const char *s, size_t n, bool prefix)
{
	if (s[0] != '/')
		return fail(p,
			    "%s: \"%.*s\" is not an absolute path: want one that starts with '/'",
			    key, (int)(n > 256 ? 256 : n), s);
	if (n > OM_PATH_MAX)
		return fail(p, "%s: a path longer than %d bytes", key, OM_PATH_MAX);
	if (!prefix && n > 1 && s[n - 1] == '/')
		return fail(p,
			    "%s: \"%.*s\" ends in '/': an executable is a file (for a directory, "
			    "use %s-prefix)",
			    key, (int)(n > 256 ? 256 : n), s, key);
	return 0;
}

static int item_exe(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (check_path(p, "exe", s, n, false))
		return -1;
	return add_string(&r->exe, s, n);
}

static int item_exe_prefix(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (check_path(p, "exe-prefix", s, n, true))
		return -1;
	return add_string(&r->exe_prefix, s, n);
}

static int item_parent_exe(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (check_path(p, "parent-exe", s, n, false))
		return -1;
	return add_string(&r->parent_exe, s, n);
}

static int item_parent_exe_prefix(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (check_path(p, "parent-exe-prefix", s, n, true))
		return -1;
	return add_string(&r->parent_exe_prefix, s, n);
}

static int item_cgroup(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (s[0] != '/')
		return fail(p,
			    "cgroup: \"%.*s\" is not a cgroup path: want one as /proc/PID/cgroup "
			    "shows it, e.g. /system.slice/cron.service",
			    (int)(n > 256 ? 256 : n), s);
	if (n > OM_PATH_MAX)
		return fail(p, "cgroup: a path longer than %d bytes", OM_PATH_MAX);
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '/' && s[i + 1] == '.' &&
		    (i + 2 == n || s[i + 2] == '/' ||
		     (s[i + 2] == '.' && (i + 3 == n || s[i + 3] == '/'))))
			return fail(p, "cgroup: \"%.*s\" holds a . or .. step", (int)n, s);
	return add_string(&r->cgroup, s, n);
}

int cfg_parse_cidr(const char *s, size_t n, struct cfg_cidr *out)
{
	char buf[64];
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	unsigned max;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	unsigned len = max;
	if (slash) {
		const char *d = slash + 1;
		if (!*d || strlen(d) > 3)
			return -1;
		len = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (len > max)
			return -1;
	}
	out->len = len;
	/* host bits set are a mistake (192.0.2.1/24): refused, not masked */
	for (unsigned b = len; b < max; b++)
		if (out->addr[b / 8] & (0x80u >> (b % 8)))
			return -2;
	return 0;
}

static int item_dst(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	struct cfg_cidr c;
	int rc = cfg_parse_cidr(s, n, &c);
	if (rc == -2)
		return fail(p,
			    "dst: \"%.*s\" has bits set past its prefix length: want the network "
			    "address, e.g. 192.0.2.0/24",
			    (int)n, s);
	if (rc != 0)
		return fail(p,
			    "dst: bad address \"%.*s\": want an IPv4 or IPv6 address or network, "
			    "e.g. 192.0.2.0/24, 2001:db8::/32 or 198.51.100.7",
			    (int)(n > 64 ? 64 : n), s);
	r->dst = realloc(r->dst, (r->ndst + 1) * sizeof(*r->dst));
	if (!r->dst)
		fatal("out of memory");
	r->dst[r->ndst++] = c;
	return 0;
}

static int port_num(const char *s, size_t n, unsigned *v)
{
	if (n == 0 || n > 5)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return *v >= 1 && *v <= 65535 ? 0 : -1;
}

static int item_port(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	unsigned lo, hi;
	if (dash ? port_num(s, (size_t)(dash - s), &lo) ||
		       port_num(dash + 1, n - (size_t)(dash - s) - 1, &hi) || lo > hi
		 : port_num(s, n, &lo))
		return fail(p,
			    "port: bad value \"%.*s\": want a port from 1 to 65535 or a range "
			    "such as 8000-8099",
			    (int)(n > 64 ? 64 : n), s);
	if (!dash)
		hi = lo;
	r->port_lo = realloc(r->port_lo, (r->nports + 1) * sizeof(*r->port_lo));
	r->port_hi = realloc(r->port_hi, (r->nports + 1) * sizeof(*r->port_hi));
	if (!r->port_lo || !r->port_hi)
		fatal("out of memory");
	r->port_lo[r->nports] = (uint16_t)lo;
	r->port_hi[r->nports] = (uint16_t)hi;
	r->nports++;
	return 0;
}

static int item_direction(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "out", 3) == 0)
		r->dirs |= CFG_DIR_OUT;
	else if (n == 2 && memcmp(s, "in", 2) == 0)
		r->dirs |= CFG_DIR_IN;
	else
		return fail(p, "direction: bad value \"%.*s\": want in or out",
			    (int)(n > 64 ? 64 : n), s);
	return 0;
}

static int item_proto(struct parser *p, struct cfg_rule *r, const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "tcp", 3) == 0)
		r->protos |= CFG_PROTO_TCP;
	else if (n == 3 && memcmp(s, "udp", 3) == 0)
		r->protos |= CFG_PROTO_UDP;
	else if ((n == 4 && memcmp(s, "icmp", 4) == 0) || (n == 6 && memcmp(s, "icmpv6", 6) == 0))
		r->protos |= CFG_PROTO_ICMP;
	else
		return fail(p, "proto: bad value \"%.*s\": want tcp, udp, icmp or icmpv6",
			    (int)(n > 64 ? 64 : n), s);
	return 0;
}

static const item_fn field_fn[CFG_F_COUNT] = {
    [CFG_F_EVENT] = item_event,
    [CFG_F_UID] = item_uid,
    [CFG_F_EXE] = item_exe,
    [CFG_F_EXE_PREFIX] = item_exe_prefix,
    [CFG_F_PARENT_EXE] = item_parent_exe,
    [CFG_F_PARENT_EXE_PREFIX] = item_parent_exe_prefix,
    [CFG_F_CGROUP] = item_cgroup,
    [CFG_F_DST] = item_dst,
    [CFG_F_PORT] = item_port,
    [CFG_F_DIRECTION] = item_direction,
    [CFG_F_PROTO] = item_proto,
};

static int rule_key(struct parser *p, const char *key, size_t kn, const char *v)
{
	struct cfg_rule *r = p->rule;
	for (int f = 0; f < CFG_F_COUNT; f++) {
		if (strlen(field_names[f]) != kn || memcmp(field_names[f], key, kn) != 0)
			continue;
		if (r->fields & (1u << f))
			return fail(p,
				    "duplicate key %s in [%s %s] (list the values on one line, "
				    "separated by commas)",
				    field_names[f], r->include ? "include" : "exclude", r->name);
		r->fields |= 1u << f;
		return each_item(p, r, v, field_names[f], field_fn[f]);
	}
	return fail(p,
		    "unknown key \"%.*s\" in a rule: want event, uid, exe, exe-prefix, "
		    "parent-exe, parent-exe-prefix, cgroup, dst, port, direction or proto",
		    (int)(kn > 64 ? 64 : kn), key);
}

static int record_key(struct parser *p, const char *key, size_t kn, const char *v)
{
	for (int s = 0; s < CFG_S_COUNT; s++) {
		if (strlen(setting_names[s]) != kn || memcmp(setting_names[s], key, kn) != 0)
			continue;
		if (p->c->value_line[s])
			return fail(p, "duplicate key %s (first at line %u)", setting_names[s],
				    p->c->value_line[s]);
		/* the value is checked as the command line's would be */
		struct record_settings tmp;
		record_settings_init(&tmp);
		char why[256];
		if (record_setting_set(&tmp, (enum cfg_setting)s, v, why, sizeof(why)) != 0)
			return fail(p, "bad %s \"%.*s\": %s", setting_names[s],
				    (int)(strlen(v) > 256 ? 256 : strlen(v)), v, why);
		p->c->value[s] = xstrndup(v, strlen(v));
		p->c->value_line[s] = p->line;
		return 0;
	}
	return fail(p,
		    "unknown key \"%.*s\" in [record]: want log-dir, format, rotate-size, "
		    "rotate-age, keep-size, keep-age, compress-level, seal-key, seal-interval, "
		    "syslog, ring-size, cmdline-max, hash-max, evidence-max, evidence-exe-max, "
		    "evidence-rules or evidence-environ",
		    (int)(kn > 64 ? 64 : kn), key);
}

static int key_line(struct parser *p, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return fail(p, "want \"key = value\", a [section] or a # comment");
	size_t kn = (size_t)(eq - s);
	const char *key = trim(s, &kn);
	size_t vn = n - (size_t)(eq - s) - 1;
	const char *val = trim(eq + 1, &vn);
	if (kn == 0)
		return fail(p, "a line without a key before '='");
	if (vn == 0)
		return fail(p, "%.*s: no value after '='", (int)(kn > 64 ? 64 : kn), key);
	if (!p->in_record && !p->rule)
		return fail(p,
			    "%.*s outside a section: put the settings under [record] and "
			    "filters under [exclude NAME] or [include NAME]",
			    (int)(kn > 64 ? 64 : kn), key);
	char v[CFG_LINE_MAX + 1];
	memcpy(v, val, vn);
	v[vn] = '\0';
	return p->in_record ? record_key(p, key, kn, v) : rule_key(p, key, kn, v);
}

static int finish_rule(struct parser *p, struct cfg_rule *r)
{
	p->line = r->line;
	unsigned net = r->fields & CFG_NET_FIELDS;
	if (!r->fields)
		return fail(
		    p,
		    "[%s %s] has no condition: want at least one key (event, uid, exe, dst, ...)",
		    r->include ? "include" : "exclude", r->name);
	if (!(r->fields & (1u << CFG_F_EVENT)))
		r->events = net ? (1u << OM_EVENT_NET) : CFG_FILTERABLE;
	else if (net && (r->events & ~(1u << OM_EVENT_NET)))
		return fail(p,
			    "[%s %s]: dst, port, direction and proto apply to NET records only, "
			    "but event names others",
			    r->include ? "include" : "exclude", r->name);
	return 0;
}

int config_parse(struct om_config *c, const char *name, const char *buf, size_t len, char *err,
		 size_t errsize)
{
	struct parser p = {.c = c, .name = name, .err = err, .errsize = errsize};
	free(c->name);
	c->name = xstrndup(name, strlen(name));
	if (len > CFG_FILE_MAX) {
		p.line = 0;
		return fail(&p, "the file is larger than %u bytes", CFG_FILE_MAX);
	}
	size_t off = 0;
	while (off < len) {
		p.line++;
		const char *s = buf + off;
		const char *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;
		off += n + (nl ? 1 : 0);
		if (n && s[n - 1] == '\r')
			n--;
		if (n > CFG_LINE_MAX)
			return fail(&p, "line longer than %d bytes", CFG_LINE_MAX);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];
			if (ch == 0)
				return fail(&p, "a NUL byte at column %zu", i + 1);
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return fail(&p, "a control byte 0x%02x at column %zu", ch, i + 1);
		}
		s = trim(s, &n);
		if (n == 0 || s[0] == '#' || s[0] == ';')
			continue;
		int rc = s[0] == '[' ? section(&p, s, n) : key_line(&p, s, n);
		if (rc != 0)
			return -1;
	}
	for (size_t i = 0; i < c->nrules; i++)
		if (finish_rule(&p, &c->rules[i]) != 0)
			return -1;
	EVP_Digest(buf, len, c->sha256, NULL, EVP_sha256(), NULL);
	c->loaded = true;
	return 0;
}

int config_load(struct om_config *c, const char *path, bool must_exist, char *err, size_t errsize)
{
	char dir[4096], why[1024];
	const char *base;
	if (split_path(path, dir, sizeof(dir), &base) != 0) {
		snprintf(err, errsize, "%s is not a file name (%s)", path, strerror(errno));
		return -1;
	}
	int dfd = open_dir_nofollow(dir, 0, 0700, NULL, NULL, why, sizeof(why));
	if (dfd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errsize, "cannot read the configuration %s: its directory: %s", path,
			 why);
		return -1;
	}
	int fd = open_regular(dfd, base, O_RDONLY, 0, SF_OWNED, why, sizeof(why));
	int e = errno;
	close(dfd);
	if (fd < 0) {
		if (e == ENOENT && !must_exist)
			return 0;
		snprintf(err, errsize, "cannot read the configuration %s: %s", path, why);
		return -1;
	}
	char *buf = malloc(CFG_FILE_MAX + 1);
	if (!buf)
		fatal("out of memory");
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, CFG_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsize, "cannot read the configuration %s: %s", path,
				 strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		if (n == 0 || (len += (size_t)n) > CFG_FILE_MAX)
			break;
	}
	close(fd);
	int rc = config_parse(c, path, buf, len, err, errsize);
	free(buf);
	return rc == 0 ? 1 : -1;
}

int config_apply(const struct om_config *c, struct record_settings *r, char *err, size_t errsize)
{
	for (int s = 0; s < CFG_S_COUNT; s++) {
		if (!c->value_line[s])
			continue;
		char why[256];
		if (record_setting_set(r, (enum cfg_setting)s, c->value[s], why, sizeof(why)) !=
		    0) {
			snprintf(err, errsize, "%s:%u: bad %s \"%s\": %s", c->name,
				 c->value_line[s], setting_names[s], c->value[s], why);
			return -1;
		}
	}
	return 0;
}

void config_hash_hex(const struct om_config *c, char out[65])
{
	hex_encode(out, c->sha256, sizeof(c->sha256));
}

static void strings_text(struct strbuf *sb, const char *key, const struct cfg_strings *l)
{
	if (!l->n)
		return;
	sb_addf(sb, " %s=", key);
	for (size_t i = 0; i < l->n; i++)
		sb_addf(sb, "%s%s", i ? "," : "", l->v[i]);
}

void config_rules_text(const struct om_config *c, struct strbuf *sb)
{
	for (size_t i = 0; i < c->nrules; i++) {
		const struct cfg_rule *r = &c->rules[i];
		sb_addf(sb, "[%s %s] events=%x", r->include ? "include" : "exclude", r->name,
			r->events);
		if (r->nuids || (r->fields & (1u << CFG_F_UID))) {
			sb_adds(sb, " uid=");
			for (size_t k = 0; k < r->nuids; k++)
				sb_addf(sb, "%s%u", k ? "," : "", r->uids[k]);
		}
		strings_text(sb, "exe", &r->exe);
		strings_text(sb, "exe-prefix", &r->exe_prefix);
		strings_text(sb, "parent-exe", &r->parent_exe);
		strings_text(sb, "parent-exe-prefix", &r->parent_exe_prefix);
		strings_text(sb, "cgroup", &r->cgroup);
		for (size_t k = 0; k < r->ndst; k++) {
			char a[64];
			inet_ntop(r->dst[k].family, r->dst[k].addr, a, sizeof(a));
			sb_addf(sb, "%s%s/%u", k ? "," : " dst=", a, r->dst[k].len);
		}
		for (size_t k = 0; k < r->nports; k++)
			sb_addf(sb, "%s%u-%u", k ? "," : " port=", r->port_lo[k], r->port_hi[k]);
		if (r->fields & (1u << CFG_F_DIRECTION))
			sb_addf(sb, " direction=%x", r->dirs);
		if (r->fields & (1u << CFG_F_PROTO))
			sb_addf(sb, " proto=%x", r->protos);
		sb_addc(sb, '\n');
	}
}
