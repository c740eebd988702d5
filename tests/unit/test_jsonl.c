/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JSON Lines against the ECS field reference (tests/data/ecs/: the fields
 * onmitsu writes, with their types, and the allowed values of the
 * categorisation fields, from elastic/ecs v8.17.0), for every record kind;
 * and CSV -> JSON Lines -> CSV byte for byte, for every record kind, with
 * realistic and with hostile text.
 *
 * The JSON is read here by a walker of its own, not by log/jsonl.c's parser.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/chain.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/schema.h"
#include "test.h"
#include "util/strbuf.h"

/* ---- the reference tables ---- */

#define MAX_ROWS 256

struct field_row {
	char name[64], type[32];
	bool array;
};

struct allowed_row {
	char field[32], value[32], expected[160];
};

struct reference {
	struct field_row fields[MAX_ROWS];
	int nfields;
	struct allowed_row allowed[MAX_ROWS];
	int nallowed;
	bool ok;
};

/* split a CSV line of at most 3 plain fields (no quoting in these files) */
static int split3(char *line, char *out[3])
{
	int n = 0;
	line[strcspn(line, "\n")] = '\0';
	for (char *p = line; n < 3;) {
		out[n++] = p;
		char *comma = strchr(p, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	for (int i = n; i < 3; i++)
		out[i] = "";
	return n;
}

static bool load_table(const char *name, void (*row)(struct reference *, char **),
		       struct reference *r)
{
	char path[512], line[512];
	snprintf(path, sizeof(path), "%s/ecs/%s", test_data_dir(), name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char *cols[3];
		split3(line, cols);
		row(r, cols);
	}
	fclose(f);
	return true;
}

static void field_row(struct reference *r, char **c)
{
	if (r->nfields == MAX_ROWS)
		return;
	struct field_row *f = &r->fields[r->nfields++];
	snprintf(f->name, sizeof(f->name), "%s", c[0]);
	snprintf(f->type, sizeof(f->type), "%s", c[1]);
	f->array = strcmp(c[2], "array") == 0;
}

static void allowed_row(struct reference *r, char **c)
{
	if (r->nallowed == MAX_ROWS)
		return;
	struct allowed_row *a = &r->allowed[r->nallowed++];
	snprintf(a->field, sizeof(a->field), "%s", c[0]);
	snprintf(a->value, sizeof(a->value), "%s", c[1]);
	snprintf(a->expected, sizeof(a->expected), "%s", c[2]);
}

static const struct reference *reference(void)
{
	static struct reference r;
	static bool loaded;
	if (!loaded) {
		loaded = true;
		r.ok = load_table("fields.csv", field_row, &r) &&
		       load_table("onmitsu.csv", field_row, &r) &&
		       load_table("allowed.csv", allowed_row, &r) && r.nfields > 40 &&
		       r.nallowed > 40;
	}
	return &r;
}

static const struct field_row *find_field(const struct reference *r, const char *name)
{
	for (int i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	/* onmitsu.exact.COLUMN: the CSV text of any column */
	if (strncmp(name, "onmitsu.exact.", 14) == 0)
		for (int i = 0; i < r->nfields; i++)
			if (strcmp(r->fields[i].name, "onmitsu.exact.*") == 0)
				return &r->fields[i];
	return NULL;
}

static const struct allowed_row *find_allowed(const struct reference *r, const char *field,
					      const char *value)
{
	for (int i = 0; i < r->nallowed; i++)
		if (strcmp(r->allowed[i].field, field) == 0 &&
		    strcmp(r->allowed[i].value, value) == 0)
			return &r->allowed[i];
	return NULL;
}

static bool has_allowed_values(const struct reference *r, const char *field)
{
	for (int i = 0; i < r->nallowed; i++)
		if (strcmp(r->allowed[i].field, field) == 0)
			return true;
	return false;
}

/* ---- an independent JSON walker: every leaf with its dotted path ---- */

enum leaf_type { L_STRING, L_INTEGER, L_NUMBER, L_LITERAL };

#define MAX_LEAVES 512

struct leaf {
	char path[96];
	enum leaf_type type;
	char value[256]; /* ASCII of the value, \u escapes as '?' */
	bool in_array;
	char array[96]; /* the path of the array it is in */
};

struct walk {
	const char *p, *end;
	struct leaf leaves[MAX_LEAVES];
	int n;
	char arrays[32][96];
	int narrays;
	int depth_max;
	bool bad;
};

static void ws(struct walk *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t'))
		w->p++;
}

static bool string_(struct walk *w, char *out, size_t size)
{
	size_t n = 0;
	if (w->p >= w->end || *w->p != '"')
		return false;
	w->p++;
	while (w->p < w->end && *w->p != '"') {
		char c = *w->p++;
		if ((unsigned char)c < 0x20)
			return false;
		if (c == '\\') {
			if (w->p >= w->end)
				return false;
			char e = *w->p++;
			if (e == 'u') {
				if (w->end - w->p < 4)
					return false;
				w->p += 4;
				c = '?';
			} else if (strchr("\"\\/bfnrt", e)) {
				c = e == '"' || e == '\\' || e == '/' ? e : '?';
			} else {
				return false;
			}
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	if (w->p >= w->end)
		return false;
	w->p++;
	out[n] = '\0';
	return true;
}

static void value_(struct walk *w, const char *path, const char *array, int depth);

static void add_leaf(struct walk *w, const char *path, const char *array, enum leaf_type t,
		     const char *v, size_t n)
{
	if (w->n == MAX_LEAVES) {
		w->bad = true;
		return;
	}
	struct leaf *l = &w->leaves[w->n++];
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->type = t;
	snprintf(l->value, sizeof(l->value), "%.*s", (int)(n < 255 ? n : 255), v);
	l->in_array = array != NULL;
	snprintf(l->array, sizeof(l->array), "%s", array ? array : "");
}

static void value_(struct walk *w, const char *path, const char *array, int depth)
{
	char buf[512];
	if (depth > w->depth_max)
		w->depth_max = depth;
	ws(w);
	if (w->p >= w->end) {
		w->bad = true;
		return;
	}
	if (*w->p == '{') {
		w->p++;
		ws(w);
		if (w->p < w->end && *w->p == '}') {
			w->p++;
			return;
		}
		for (;;) {
			char key[64], child[160];
			ws(w);
			if (!string_(w, key, sizeof(key))) {
				w->bad = true;
				return;
			}
			snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", key);
			ws(w);
			if (w->p >= w->end || *w->p++ != ':') {
				w->bad = true;
				return;
			}
			value_(w, child, array, depth + 1);
			if (w->bad)
				return;
			ws(w);
			if (w->p < w->end && *w->p == ',') {
				w->p++;
				continue;
			}
			if (w->p < w->end && *w->p == '}') {
				w->p++;
				return;
			}
			w->bad = true;
			return;
		}
	}
	if (*w->p == '[') {
		w->p++;
		if (w->narrays < 32)
			snprintf(w->arrays[w->narrays++], sizeof(w->arrays[0]), "%s", path);
		ws(w);
		if (w->p < w->end && *w->p == ']') {
			w->p++;
			return;
		}
		for (;;) {
			value_(w, path, path, depth + 1);
			if (w->bad)
				return;
			ws(w);
			if (w->p < w->end && *w->p == ',') {
				w->p++;
				continue;
			}
			if (w->p < w->end && *w->p == ']') {
				w->p++;
				return;
			}
			w->bad = true;
			return;
		}
	}
	if (*w->p == '"') {
		if (!string_(w, buf, sizeof(buf))) {
			w->bad = true;
			return;
		}
		add_leaf(w, path, array, L_STRING, buf, strlen(buf));
		return;
	}
	const char *s = w->p;
	while (w->p < w->end && strchr("0123456789-+.eEtruefalsn", *w->p))
		w->p++;
	size_t n = (size_t)(w->p - s);
	if (n == 0) {
		w->bad = true;
		return;
	}
	enum leaf_type t = L_NUMBER;
	if (s[0] >= 'a')
		t = L_LITERAL;
	else if (strspn(s, "0123456789") == n && (n == 1 || s[0] != '0'))
		t = L_INTEGER;
	add_leaf(w, path, array, t, s, n);
}

static bool walk_line(struct walk *w, const char *line, size_t len)
{
	memset(w, 0, sizeof(*w));
	w->p = line;
	w->end = line + len;
	value_(w, "", NULL, 0);
	ws(w);
	return !w->bad && w->p == w->end;
}

static const struct leaf *leaf_at(const struct walk *w, const char *path)
{
	for (int i = 0; i < w->n; i++)
		if (strcmp(w->leaves[i].path, path) == 0)
			return &w->leaves[i];
	return NULL;
}

/* ---- checking one line against the reference ---- */

static bool valid_ip(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static bool type_ok(const char *type, const struct leaf *l)
{
	if (strcmp(type, "keyword") == 0 || strcmp(type, "wildcard") == 0)
		return l->type == L_STRING;
	if (strcmp(type, "long") == 0)
		return l->type == L_INTEGER;
	if (strcmp(type, "ip") == 0)
		return l->type == L_STRING && valid_ip(l->value);
	if (strcmp(type, "date") == 0) {
		uint64_t t;
		return l->type == L_STRING && csv_parse_time(l->value, &t) == 0;
	}
	return false;
}

/* Empty when the line is ECS as the reference has it, else why not. */
static void check_ecs(const struct walk *w, char *why, size_t size)
{
	const struct reference *r = reference();
	why[0] = '\0';
	if (!r->ok) {
		snprintf(why, size, "tests/data/ecs/ cannot be read");
		return;
	}
	for (int i = 0; i < w->n; i++) {
		const struct leaf *l = &w->leaves[i];
		const struct field_row *f = find_field(r, l->path);
		if (!f) {
			snprintf(why, size, "%s is not an ECS field (nor one of onmitsu's)",
				 l->path);
			return;
		}
		if (!type_ok(f->type, l)) {
			snprintf(why, size, "%s = %s is not of type %s", l->path, l->value,
				 f->type);
			return;
		}
		if (l->in_array) {
			const struct field_row *a = find_field(r, l->array);
			if (!a || !a->array) {
				snprintf(why, size, "%s is an array, which ECS does not make it",
					 l->array);
				return;
			}
			if (strcmp(l->array, l->path) != 0 && strcmp(a->type, "object") != 0) {
				snprintf(why, size, "%s holds objects", l->array);
				return;
			}
		} else if (f->array) {
			snprintf(why, size, "%s is not an array", l->path);
			return;
		}
		if (has_allowed_values(r, l->path) && !find_allowed(r, l->path, l->value)) {
			snprintf(why, size, "%s = %s is not an allowed value", l->path, l->value);
			return;
		}
	}
	for (int i = 0; i < w->narrays; i++) {
		const struct field_row *f = find_field(r, w->arrays[i]);
		if (!f || !f->array) {
			snprintf(why, size, "%s is an array, which ECS does not make it",
				 w->arrays[i]);
			return;
		}
	}
	/* every event.type is one ECS expects with the event.category */
	const struct leaf *cat = leaf_at(w, "event.category");
	for (int i = 0; cat && i < w->n; i++) {
		const struct leaf *t = &w->leaves[i];
		if (strcmp(t->path, "event.type") != 0)
			continue;
		const struct allowed_row *a = find_allowed(r, "event.category", cat->value);
		char padded[200], word[40];
		snprintf(padded, sizeof(padded), " %s ", a ? a->expected : "");
		snprintf(word, sizeof(word), " %s ", t->value);
		if (!strstr(padded, word)) {
			snprintf(why, size, "event.type %s is not expected with event.category %s",
				 t->value, cat->value);
			return;
		}
	}
	if (!leaf_at(w, "ecs.version") || !leaf_at(w, "event.kind")) {
		snprintf(why, size, "no ecs.version or event.kind");
		return;
	}
}

/* ---- records of every kind ---- */

#define GUID_A "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b"
#define GUID_P "6f1c0001-0000-4000-8000-000000000001"
#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define CTR "3f1e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"

struct kind_case {
	const char *name;
	const char *set[COL_COUNT]; /* by column; NULL: empty */
};

static void base_fields(const char **f)
{
	for (int c = 0; c < COL_COUNT; c++)
		f[c] = "";
	f[COL_TIME] = "2026-11-25T19:13:17.123456Z";
	f[COL_SEQ] = "42";
}

/* The kinds with the fields the recorder fills (docs/FORMAT.md, "Record kinds"). */
static int kind_cases(struct kind_case *k)
{
	int n = 0;
#define KIND(label) (k[n].name = label, memset(k[n].set, 0, sizeof(k[n].set)), &k[n++])
	struct kind_case *c;
	c = KIND("START");
	c->set[COL_EVENT] = "START";
	c->set[COL_PID] = "321";
	c->set[COL_DETAIL] =
	    "version=0.3.0 hooks=process,net host=web1 machine_id=0f0e boot_id=1111";
	c = KIND("STOP");
	c->set[COL_EVENT] = "STOP";
	c->set[COL_PID] = "321";
	c->set[COL_DETAIL] = "events=12 lost=0";
	c = KIND("EXISTING");
	c->set[COL_EVENT] = "EXISTING";
	c->set[COL_PID] = "1";
	c->set[COL_PPID] = "0";
	c->set[COL_GUID] = GUID_P;
	c->set[COL_UID] = "0";
	c->set[COL_EXE] = "/usr/lib/systemd/systemd";
	c->set[COL_CMDLINE] = "/sbin/init splash";
	c->set[COL_SHA256] = SHA;
	c->set[COL_CGROUP] = "/init.scope";
	c = KIND("FORK");
	c->set[COL_EVENT] = "FORK";
	c->set[COL_PID] = "4242";
	c->set[COL_PPID] = "1";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_PARENT_GUID] = GUID_P;
	c->set[COL_UID] = "1000";
	c = KIND("EXEC");
	c->set[COL_EVENT] = "EXEC";
	c->set[COL_PID] = "4242";
	c->set[COL_PPID] = "1";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_PARENT_GUID] = GUID_P;
	c->set[COL_UID] = "1000";
	c->set[COL_EXE] = "/usr/bin/dash";
	c->set[COL_CMDLINE] = "/bin/sh /srv/x.sh \"a b\" \"\" é";
	c->set[COL_PATH] = "/srv/x.sh";
	c->set[COL_DETAIL] = "euid=0";
	c->set[COL_SHA256] = SHA;
	c->set[COL_CGROUP] = "/system.slice/docker-" CTR ".scope";
	c->set[COL_CONTAINER_ID] = CTR;
	c = KIND("EXIT");
	c->set[COL_EVENT] = "EXIT";
	c->set[COL_PID] = "4242";
	c->set[COL_PPID] = "1";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_PARENT_GUID] = GUID_P;
	c->set[COL_UID] = "1000";
	c->set[COL_RESULT] = "exit:3";
	c = KIND("EXIT signal");
	c->set[COL_EVENT] = "EXIT";
	c->set[COL_PID] = "4242";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_RESULT] = "signal:SIGKILL";
	c->set[COL_DETAIL] = "core=1";
	c = KIND("MODLOAD");
	c->set[COL_EVENT] = "MODLOAD";
	c->set[COL_PID] = "4242";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_UID] = "1000";
	c->set[COL_PATH] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	c->set[COL_SHA256] = SHA;
	c = KIND("NET tcp");
	c->set[COL_EVENT] = "NET";
	c->set[COL_PID] = "4242";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_UID] = "1000";
	c->set[COL_PROTO] = "tcp";
	c->set[COL_SRC_IP] = "192.0.2.10";
	c->set[COL_SRC_PORT] = "43210";
	c->set[COL_DST_IP] = "203.0.113.9";
	c->set[COL_DST_PORT] = "443";
	c->set[COL_DIRECTION] = "out";
	c->set[COL_RESULT] = "refused";
	c->set[COL_COMMUNITY_ID] = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
	c = KIND("NET udp in");
	c->set[COL_EVENT] = "NET";
	c->set[COL_PROTO] = "udp";
	c->set[COL_SRC_IP] = "2001:db8::53";
	c->set[COL_SRC_PORT] = "53";
	c->set[COL_DST_IP] = "2001:db8::1";
	c->set[COL_DST_PORT] = "5353";
	c->set[COL_DIRECTION] = "in";
	c->set[COL_RESULT] = "received";
	c->set[COL_DETAIL] = "owner=unknown";
	c = KIND("NET icmp");
	c->set[COL_EVENT] = "NET";
	c->set[COL_PID] = "4242";
	c->set[COL_PROTO] = "icmp";
	c->set[COL_SRC_IP] = "198.51.100.7";
	c->set[COL_SRC_PORT] = "8";
	c->set[COL_DST_IP] = "198.51.100.1";
	c->set[COL_DST_PORT] = "0";
	c->set[COL_DIRECTION] = "out";
	c->set[COL_RESULT] = "sent";
	c = KIND("NET icmpv6");
	c->set[COL_EVENT] = "NET";
	c->set[COL_PID] = "4242";
	c->set[COL_PROTO] = "icmpv6";
	c->set[COL_SRC_IP] = "2001:db8::1";
	c->set[COL_SRC_PORT] = "128";
	c->set[COL_DST_IP] = "2001:db8::2";
	c->set[COL_DST_PORT] = "0";
	c->set[COL_DIRECTION] = "out";
	c->set[COL_RESULT] = "sent";
	c = KIND("LOST");
	c->set[COL_EVENT] = "LOST";
	c->set[COL_DETAIL] = "lost=3 kind=exec";
	c = KIND("SEAL");
	c->set[COL_EVENT] = "SEAL";
	c->set[COL_DETAIL] = "reason=interval epoch=3 head=ab hmac=cd";
	c = KIND("INJECT");
	c->set[COL_EVENT] = "INJECT";
	c->set[COL_PID] = "4242";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_UID] = "0";
	c->set[COL_TARGET_PID] = "4300";
	c->set[COL_TARGET_GUID] = GUID_P;
	c->set[COL_DETAIL] = "kind=ptrace_poketext";
	c = KIND("DNS");
	c->set[COL_EVENT] = "DNS";
	c->set[COL_PID] = "4242";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_PROTO] = "udp";
	c->set[COL_SRC_IP] = "192.0.2.10";
	c->set[COL_SRC_PORT] = "40000";
	c->set[COL_DST_IP] = "192.0.2.53";
	c->set[COL_DST_PORT] = "53";
	c->set[COL_DIRECTION] = "out";
	c->set[COL_RESULT] = "NOERROR";
	c->set[COL_DNS_NAME] = "www.example.com";
	c->set[COL_DNS_TYPE] = "A";
	c->set[COL_DNS_ANSWERS] = "CNAME web.example.com;A 192.0.2.1;AAAA 2001:db8::80";
	c = KIND("CONFIG");
	c->set[COL_EVENT] = "CONFIG";
	c->set[COL_PID] = "100";
	c->set[COL_RESULT] = "applied";
	c->set[COL_DETAIL] = "file=/etc/onmitsu/onmitsu.conf sha256=ab rules=2 changed=rules";
	c = KIND("EVIDENCE");
	c->set[COL_EVENT] = "EVIDENCE";
	c->set[COL_PID] = "4242";
	c->set[COL_GUID] = GUID_A;
	c->set[COL_UID] = "0";
	c->set[COL_RESULT] = "partial";
	c->set[COL_PATH] = "evidence/" GUID_A;
	c->set[COL_SHA256] = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
	c->set[COL_DETAIL] = "rule=inject trigger=inject:ptrace_attach files=9 bytes=1000 "
			     "not_kept=environ:exited";
#undef KIND
	return n;
}

static void case_fields(const struct kind_case *k, const char **f)
{
	base_fields(f);
	for (int c = 0; c < COL_COUNT; c++)
		if (k->set[c])
			f[c] = k->set[c];
}

static const struct jsonl_host host = {"web1", "0f0e0d0c", "11111111-2222-4333-8444-555555555555"};

TEST(jsonl_every_kind_is_ecs)
{
	struct kind_case cases[32];
	int n = kind_cases(cases);
	CHECK(n >= OM_EVENT_COUNT);
	bool seen[OM_EVENT_COUNT] = {false};
	static struct walk w;
	struct strbuf out = STRBUF_INIT;
	for (int i = 0; i < n; i++) {
		const char *f[COL_COUNT];
		case_fields(&cases[i], f);
		for (int e = 0; e < OM_EVENT_COUNT; e++)
			if (strcmp(f[COL_EVENT], om_event_name((enum om_event)e)) == 0)
				seen[e] = true;
		sb_reset(&out);
		jsonl_encode_fields(&out, f, &host, "0123456789abcdef");
		if (!walk_line(&w, out.data, out.len - 1))
			TEST_FAIL_("%s: not JSON: %s", cases[i].name, out.data);
		char why[256];
		check_ecs(&w, why, sizeof(why));
		if (why[0])
			TEST_FAIL_("%s: %s\n    %s", cases[i].name, why, out.data);
		/* nested: what `jq .process.pid` reads */
		CHECK(w.depth_max >= 2);
		/* a record of the recorder's needs no exact copy of a column */
		for (int l = 0; l < w.n; l++)
			if (strncmp(w.leaves[l].path, "onmitsu.exact.", 14) == 0)
				TEST_FAIL_(
				    "%s: %s written: the ECS value does not give it back\n    %s",
				    cases[i].name, w.leaves[l].path, out.data);
		/* the host once, the chain last */
		const struct leaf *hn = leaf_at(&w, "host.name");
		CHECK(hn && strcmp(hn->value, "web1") == 0);
		CHECK(strcmp(w.leaves[w.n - 1].path, "onmitsu.chain") == 0);
	}
	for (int e = 0; e < OM_EVENT_COUNT; e++)
		if (!seen[e])
			TEST_FAIL_("no case of %s", om_event_name((enum om_event)e));
	sb_free(&out);
}

/* The value at path in the encoding of case name, or NULL. */
static const char *value_of(const char *name, const char *path, enum leaf_type *type)
{
	static struct walk w;
	static struct strbuf out;
	static char v[256];
	struct kind_case cases[32];
	int n = kind_cases(cases);
	for (int i = 0; i < n; i++) {
		if (strcmp(cases[i].name, name) != 0)
			continue;
		const char *f[COL_COUNT];
		case_fields(&cases[i], f);
		sb_reset(&out);
		jsonl_encode_fields(&out, f, &host, "0123456789abcdef");
		if (!walk_line(&w, out.data, out.len - 1))
			return NULL;
		v[0] = '\0';
		int count = 0;
		for (int l = 0; l < w.n; l++) {
			if (strcmp(w.leaves[l].path, path) != 0)
				continue;
			/* arrays: the elements joined by '|' */
			size_t used = strlen(v);
			snprintf(v + used, sizeof(v) - used, "%s%s", count++ ? "|" : "",
				 w.leaves[l].value);
			if (type)
				*type = w.leaves[l].type;
		}
		return count ? v : NULL;
	}
	return NULL;
}

#define CHECK_VALUE(kind, path, want)                                                              \
	do {                                                                                       \
		const char *v_ = value_of(kind, path, NULL);                                       \
		if (!v_ || strcmp(v_, want) != 0)                                                  \
			TEST_FAIL_("%s %s: got %s, want %s", kind, path, v_ ? v_ : "(none)",       \
				   want);                                                          \
	} while (0)
#define CHECK_NO_VALUE(kind, path)                                                                 \
	do {                                                                                       \
		const char *v_ = value_of(kind, path, NULL);                                       \
		if (v_)                                                                            \
			TEST_FAIL_("%s %s: got %s, want none", kind, path, v_);                    \
	} while (0)

TEST(jsonl_ecs_values_by_kind)
{
	enum leaf_type t;
	/* categorisation */
	CHECK_VALUE("EXEC", "event.category", "process");
	CHECK_VALUE("EXEC", "event.type", "start");
	CHECK_VALUE("EXEC", "event.action", "exec");
	CHECK_VALUE("EXIT", "event.type", "end");
	CHECK_VALUE("EXISTING", "event.kind", "state");
	CHECK_VALUE("EXISTING", "event.type", "info");
	CHECK_VALUE("MODLOAD", "event.category", "library");
	CHECK_VALUE("NET tcp", "event.category", "network");
	CHECK_VALUE("NET tcp", "event.type", "connection|start");
	CHECK_VALUE("NET tcp", "event.outcome", "failure");
	CHECK_VALUE("DNS", "network.protocol", "dns");
	CHECK_VALUE("LOST", "event.kind", "metric");
	CHECK_VALUE("EXEC", "ecs.version", JSONL_ECS_VERSION);
	CHECK_VALUE("EXEC", "event.sequence", "42");
	/* process: the argv as it was, nested */
	CHECK_VALUE("EXEC", "process.pid", "4242");
	CHECK(value_of("EXEC", "process.pid", &t) && t == L_INTEGER);
	CHECK_VALUE("EXEC", "process.args", "/bin/sh|/srv/x.sh|a b||é");
	CHECK_VALUE("EXEC", "process.args_count", "5");
	CHECK_VALUE("EXEC", "process.command_line", "/bin/sh /srv/x.sh a b  é");
	CHECK_VALUE("EXEC", "process.executable", "/usr/bin/dash");
	CHECK_VALUE("EXEC", "process.name", "dash");
	CHECK_VALUE("EXEC", "process.hash.sha256", SHA);
	CHECK_VALUE("EXEC", "process.parent.pid", "1");
	CHECK_VALUE("EXEC", "process.parent.entity_id", GUID_P);
	CHECK_VALUE("EXEC", "file.path", "/srv/x.sh");
	CHECK_VALUE("EXEC", "container.id", CTR);
	CHECK_VALUE("EXEC", "onmitsu.cgroup", "/system.slice/docker-" CTR ".scope");
	CHECK_VALUE("EXISTING", "process.hash.sha256", SHA);
	CHECK_VALUE("EXIT", "process.exit_code", "3");
	CHECK(value_of("EXIT", "process.exit_code", &t) && t == L_INTEGER);
	CHECK_VALUE("EXIT", "onmitsu.result", "exit:3");
	CHECK_NO_VALUE("EXIT signal", "process.exit_code");
	CHECK_VALUE("EXIT signal", "onmitsu.result", "signal:SIGKILL");
	/* libraries */
	CHECK_VALUE("MODLOAD", "dll.path", "/usr/lib/x86_64-linux-gnu/libc.so.6");
	CHECK_VALUE("MODLOAD", "dll.name", "libc.so.6");
	CHECK_VALUE("MODLOAD", "dll.hash.sha256", SHA);
	CHECK_NO_VALUE("MODLOAD", "file.path");
	CHECK_NO_VALUE("MODLOAD", "process.hash.sha256");
	/* network: IANA's names, ICMP type and code apart from the ports */
	CHECK_VALUE("NET tcp", "network.transport", "tcp");
	CHECK_VALUE("NET tcp", "network.iana_number", "6");
	CHECK_VALUE("NET tcp", "network.direction", "egress");
	CHECK_VALUE("NET tcp", "network.type", "ipv4");
	CHECK_VALUE("NET tcp", "network.community_id", "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	CHECK_VALUE("NET tcp", "source.port", "43210");
	CHECK_VALUE("NET udp in", "network.direction", "ingress");
	CHECK_VALUE("NET udp in", "network.type", "ipv6");
	CHECK_VALUE("NET udp in", "network.iana_number", "17");
	CHECK_VALUE("NET icmpv6", "network.transport", "ipv6-icmp");
	CHECK_VALUE("NET icmpv6", "network.iana_number", "58");
	CHECK_VALUE("NET icmpv6", "onmitsu.icmp.type", "128");
	CHECK_VALUE("NET icmp", "network.transport", "icmp");
	CHECK_VALUE("NET icmp", "onmitsu.icmp.type", "8");
	CHECK_VALUE("NET icmp", "onmitsu.icmp.code", "0");
	CHECK_NO_VALUE("NET icmp", "source.port");
	CHECK_NO_VALUE("NET icmp", "destination.port");
	/* INJECT and DNS */
	CHECK_VALUE("INJECT", "onmitsu.target.pid", "4300");
	CHECK_VALUE("INJECT", "onmitsu.target.entity_id", GUID_P);
	CHECK_VALUE("INJECT", "event.type", "access");
	CHECK_VALUE("DNS", "dns.question.name", "www.example.com");
	CHECK_VALUE("DNS", "dns.question.type", "A");
	CHECK_VALUE("DNS", "dns.answers.type", "CNAME|A|AAAA");
	CHECK_VALUE("DNS", "dns.answers.data", "web.example.com|192.0.2.1|2001:db8::80");
	CHECK_VALUE("DNS", "dns.resolved_ip", "192.0.2.1|2001:db8::80");
	CHECK_VALUE("DNS", "dns.response_code", "NOERROR");
	CHECK_VALUE("DNS", "dns.type", "answer");
	/* the host once */
	CHECK_VALUE("FORK", "host.id", "0f0e0d0c");
	CHECK_VALUE("FORK", "host.boot.id", "11111111-2222-4333-8444-555555555555");
}

/* ---- CSV -> JSON Lines -> CSV ---- */

/* The CSV line of f with chain, "\n"-less. */
static void csv_line(struct strbuf *out, const char *const *f, const char *chain)
{
	sb_reset(out);
	csv_encode_fields(out, f, COL_COUNT);
	sb_addc(out, ',');
	sb_adds(out, chain);
}

/* Empty when the CSV line goes to JSON Lines and back byte for byte. */
static void roundtrip(const char *const *f, const char *chain, char *why, size_t size)
{
	struct strbuf csv = STRBUF_INIT, json = STRBUF_INIT, back = STRBUF_INIT;
	struct log_line_parser p;
	memset(&p, 0, sizeof(p));
	struct jsonl_store st = {STRBUF_INIT, STRBUF_INIT};
	why[0] = '\0';
	csv_line(&csv, f, chain);
	struct log_line ln;
	if (log_line_parse(&p, LOG_FORMAT_CSV, NULL, csv.data, csv.len, &ln) != 0) {
		snprintf(why, size, "the CSV line does not parse: %s", csv.data);
		goto out;
	}
	jsonl_encode_fields(&json, ln.f, &host, ln.chain);
	const char *g[COL_COUNT + 1];
	if (memchr(json.data, '\n', json.len - 1) ||
	    jsonl_decode(json.data, json.len - 1, &st, g, NULL) != JSONL_ECS) {
		snprintf(why, size, "the JSON line does not decode: %s", json.data);
		goto out;
	}
	csv_line(&back, g, g[COL_COUNT]);
	if (strcmp(back.data, csv.data) != 0) {
		snprintf(why, size,
			 "came back different:\n    csv:  %s\n    json: %s\n    back: %s", csv.data,
			 json.data, back.data);
		goto out;
	}
	/* the chain is found where the writer and verify look for it */
	size_t body, flen;
	const char *field;
	if (*chain && (!chain_split_line(json.data, json.len - 1, true, &body, &field, &flen) ||
		       flen != strlen(chain) || memcmp(field, chain, flen) != 0))
		snprintf(why, size, "the chain is not found: %s", json.data);
out:
	sb_free(&csv);
	sb_free(&json);
	sb_free(&back);
	jsonl_store_free(&st);
	log_line_parser_free(&p);
}

TEST(jsonl_csv_roundtrip_every_kind)
{
	struct kind_case cases[32];
	int n = kind_cases(cases);
	for (int i = 0; i < n; i++) {
		const char *f[COL_COUNT];
		case_fields(&cases[i], f);
		char why[2048];
		roundtrip(f, "0123456789abcdef", why, sizeof(why));
		if (why[0])
			TEST_FAIL_("%s: %s", cases[i].name, why);
		/* a full chain value, and none (cat of a log without one) */
		roundtrip(f, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			  why, sizeof(why));
		if (why[0])
			TEST_FAIL_("%s: %s", cases[i].name, why);
		roundtrip(f, "", why, sizeof(why));
		if (why[0])
			TEST_FAIL_("%s: %s", cases[i].name, why);
	}
}

/* Text no ECS field can give back as it is, or that looks like what a
 * mapping takes: each goes into every column of every kind. */
static const char *const hostile[] = {
    "\\xff\\xfe",		  /* bytes that are not UTF-8, escaped */
    "\xff\xfe",			  /* ... raw, as a forged log may hold them */
    "a\\x0ab\\x09c\\x7f",	  /* controls and DEL */
    "/lib/x/\\x00rootkit.ko",	  /* a NUL byte, escaped (found by fuzz_jsonl_reader) */
    "\\x5cx41",			  /* a backslash, then text that looks like an escape */
    "\\x41",			  /* an escape onmitsu never writes (of a printable byte) */
    "\\q",			  /* a malformed escape */
    "\\.../d/true",		  /* the mark of a cut path */
    "\\...",			  /* ... alone */
    "x\\.../y",			  /* ... not at the start */
    "/tmp/\\xe2\\x80\\xae",	  /* RLO */
    "é日本\\xc2\\x85",		  /* UTF-8 and NEL */
    "\"quoted, comma\"",	  /* CSV quoting */
    "},\"chain\":\"00\"}}",	  /* what ends a JSON Lines record */
    "ipv6-icmp",		  /* IANA's name, in the proto column */
    "egress",			  /* ECS's word, in the direction column */
    "inbound",			  /* ... and the flat format's */
    "exit:007",			  /* a number with a leading zero */
    "007",			  /* ... in a numeric column */
    "-1",			  /* a sign */
    "99999999999999999999",	  /* over any long */
    "9223372036854775808",	  /* INT64_MAX + 1 */
    "exec",			  /* an event name in lower case */
    "Exec",			  /* ... mixed */
    "\"a b\" c",		  /* a cmdline that quotes */
    "\"ab\"",			  /* ... an argument that needed no quotes */
    " a",			  /* ... a leading space */
    "a  b",			  /* ... two spaces */
    "\"\"",			  /* one empty argument */
    "CNAME a;;A 1.2.3.4",	  /* dns answers with an empty one */
    "A",			  /* an answer without data */
    " x",			  /* an answer without a type */
    "A 1.2.3.4;",		  /* a ; at the end */
    "not-an-ip",		  /* an address that is none */
    "::ffff:192.0.2.1",		  /* an address written otherwise */
    "yesterday",		  /* a time that is none */
    "2026-11-25T19:13:17.123456", /* ... almost one */
    " ",			  /* a space */
};

TEST(jsonl_csv_roundtrip_hostile_text)
{
	struct kind_case cases[32];
	int n = kind_cases(cases);
	static struct walk w;
	struct strbuf out = STRBUF_INIT;
	for (int i = 0; i < n; i++) {
		for (size_t h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++) {
			for (int c = 0; c < COL_COUNT; c++) {
				const char *f[COL_COUNT];
				case_fields(&cases[i], f);
				f[c] = hostile[h];
				char why[4096];
				roundtrip(f, "0123456789abcdef", why, sizeof(why));
				if (why[0])
					TEST_FAIL_("%s, %s = %s: %s", cases[i].name,
						   log_columns[c].name, hostile[h], why);
				/* and still ECS: a value the field cannot take is left out
				 * of it (it is in onmitsu.exact) */
				if (c == COL_EVENT)
					continue; /* the categorisation follows the kind */
				sb_reset(&out);
				jsonl_encode_fields(&out, f, &host, "0123456789abcdef");
				if (!walk_line(&w, out.data, out.len - 1))
					TEST_FAIL_("not JSON: %s", out.data);
				check_ecs(&w, why, sizeof(why));
				if (why[0])
					TEST_FAIL_("%s, %s = %s: %s\n    %s", cases[i].name,
						   log_columns[c].name, hostile[h], why, out.data);
			}
		}
	}
	sb_free(&out);
}

TEST(jsonl_values_keep_the_line_safe)
{
	/* the ECS values hold the text itself, yet the line holds no control,
	 * no bidi control and no byte that is not UTF-8 */
	const char *f[COL_COUNT];
	base_fields(f);
	f[COL_EVENT] = "EXEC";
	f[COL_EXE] = "/tmp/\\x1b[31m\\xe2\\x80\\xae\\xc2\\x85\\xff";
	f[COL_CMDLINE] = "a\\x0a \\xe2\\x80\\xa8";
	struct strbuf out = STRBUF_INIT;
	jsonl_encode_fields(&out, f, &host, "0123456789abcdef");
	CHECK(strstr(out.data, "\"executable\":\"/tmp/\\u001b[31m\\u202e\\u0085\\ufffd\""));
	CHECK(strstr(out.data, "\"args\":[\"a\\u000a\",\"\\u2028\"]"));
	/* \xff cannot be in a JSON string: the CSV text is kept exactly */
	CHECK(strstr(out.data,
		     "\"exact\":{\"exe\":\"/tmp/\\\\x1b[31m\\\\xe2\\\\x80\\\\xae\\\\xc2\\\\x85"
		     "\\\\xff\"}"));
	for (size_t i = 0; i < out.len - 1; i++)
		CHECK((unsigned char)out.data[i] >= 0x20 && (unsigned char)out.data[i] < 0x7f);
	sb_free(&out);
}
