/* SPDX-License-Identifier: BSD-2-Clause */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log/csv.h"
#include "log/record.h"
#include "log/schema.h"
#include "test.h"
#include "util/escape.h"
#include "util/strbuf.h"

#define NCOL COL_COUNT
/* the columns appended in 0.3 (sha256 ... dns_answers), empty */
#define NEW_EMPTY ",,,,,,,,"

/*
 * The header the contract names: the column line of docs/FORMAT.md (which
 * users read), without its last column, chain (the writer's trailer, added
 * by log_write_header(.., true)), with "\n". An independent oracle for the
 * table in log/schema.h: a column added to one and not the other fails here.
 */
static const char *documented_header(void)
{
	static char header[1024];
	if (header[0])
		return header;
	char path[512];
	snprintf(path, sizeof(path), "%s/../../docs/FORMAT.md", test_data_dir());
	FILE *f = fopen(path, "re");
	if (!f)
		return "(docs/FORMAT.md cannot be read)";
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " ");
		if (strncmp(p, "time,seq,event,", 15) != 0)
			continue;
		char *chain = strstr(p, ",chain\n");
		if (chain)
			strcpy(chain, "\n");
		snprintf(header, sizeof(header), "%s", p);
		break;
	}
	fclose(f);
	return header[0] ? header : "(no column line in docs/FORMAT.md)";
}

/* 2026-11-25T19:13:17.123456789Z */
#define T_FIXED 1795633997123456789ull

static const char guid_a[] = "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b";
static const char guid_b[] = "11111111-2222-5333-8444-555555555555";

static void set_ip(struct om_ip *ip, int family, const char *text)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	if (inet_pton(family, text, ip->addr) != 1)
		abort();
}

static const char *encode(struct strbuf *sb, const struct om_record *r)
{
	sb_reset(sb);
	csv_encode(sb, r);
	return sb_str(sb);
}

TEST(csv_header_exact)
{
	struct strbuf sb = STRBUF_INIT;

	log_write_header(&sb, false);
	CHECK_EQ_STR(sb_str(&sb), documented_header());
	sb_reset(&sb);
	log_write_header(&sb, true);
	CHECK(sb.len > 7 && memcmp(sb.data + sb.len - 7, ",chain\n", 7) == 0);
	sb_reset(&sb);
	log_write_header(&sb, false);

	/* the header splits into the column names */
	char *f[NCOL + 1];
	CHECK_EQ_INT(csv_split(sb.data, sb.len - 1, f, NCOL + 1), NCOL);
	for (size_t i = 0; i < COL_COUNT; i++)
		CHECK_EQ_STR(f[i], log_col_names[i]);
	sb_free(&sb);
}

TEST(csv_exec_exact)
{
	static const char args[] = "printf\0a b\n\0";
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;

	om_record_init(&r, OM_EVENT_EXEC);
	r.time_ns = T_FIXED;
	r.seq = 42;
	r.pid = 4242;
	r.ppid = 1;
	r.uid = 1000;
	r.guid = guid_a;
	r.parent_guid = guid_b;
	r.exe = "/usr/bin/printf";
	r.exe_len = strlen(r.exe);
	r.args = args;
	r.args_len = sizeof(args) - 1;
	r.has_cmdline = true;
	r.detail = "truncated=1 deleted=1";
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.123456Z,42,EXEC,4242,1,"
	    "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,11111111-2222-5333-8444-555555555555,1000,"
	    "/usr/bin/printf,\"printf \"\"a b\\x0a\"\"\",,,,,,,,,,truncated=1 deleted=1" NEW_EMPTY
	    "\n");

	/* has_cmdline with an empty argv: an empty field; one empty argument: "" */
	r.args_len = 0;
	r.detail = NULL;
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.123456Z,42,EXEC,4242,1,"
	    "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,11111111-2222-5333-8444-555555555555,1000,"
	    "/usr/bin/printf,,,,,,,,,,," NEW_EMPTY "\n");
	r.args = "\0";
	r.args_len = 1;
	r.uid = 0;
	r.pid = OM_NONE;
	CHECK_EQ_STR(encode(&sb, &r),
		     "2026-11-25T19:13:17.123456Z,42,EXEC,,1,"
		     "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,11111111-2222-5333-8444-555555555555,0,"
		     "/usr/bin/printf,\"\"\"\"\"\",,,,,,,,,," NEW_EMPTY "\n");
	/* without has_cmdline the args are not written */
	r.has_cmdline = false;
	CHECK_EQ_STR(encode(&sb, &r),
		     "2026-11-25T19:13:17.123456Z,42,EXEC,,1,"
		     "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,11111111-2222-5333-8444-555555555555,0,"
		     "/usr/bin/printf,,,,,,,,,,," NEW_EMPTY "\n");
	sb_free(&sb);
}

TEST(csv_net_exact)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;

	om_record_init(&r, OM_EVENT_NET);
	r.time_ns = 1795633997000001999ull;
	r.seq = 43;
	r.pid = 4242;
	r.guid = guid_a;
	r.proto = "tcp";
	set_ip(&r.src, AF_INET, "192.0.2.10");
	set_ip(&r.dst, AF_INET, "198.51.100.7");
	r.src_port = 40000;
	r.dst_port = 443;
	r.direction = "out";
	r.result = "established";
	r.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.000001Z,43,NET,4242,,0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,,,,,"
	    "tcp,192.0.2.10,40000,198.51.100.7,443,out,established,,"
	    "1:LQU9qZlK+B5F3KDmev6m5PMibrg=," NEW_EMPTY "\n");

	/* IPv6, accepted: the remote peer is the source */
	set_ip(&r.src, AF_INET6, "2001:db8::1");
	set_ip(&r.dst, AF_INET6, "2001:db8:0:1::53");
	r.src_port = 51000;
	r.dst_port = 22;
	r.direction = "in";
	r.result = "error:ECONNRESET";
	r.community_id = NULL;
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.000001Z,43,NET,4242,,0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,,,,,"
	    "tcp,2001:db8::1,51000,2001:db8:0:1::53,22,in,error:ECONNRESET,,," NEW_EMPTY "\n");

	/* IPv4-mapped IPv6 is written as IPv4; no ports and no family: empty */
	set_ip(&r.src, AF_INET6, "::ffff:203.0.113.5");
	memset(&r.dst, 0, sizeof(r.dst));
	r.proto = "udp";
	r.src_port = OM_NONE;
	r.dst_port = 0;
	r.direction = "out";
	r.result = "sent";
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.000001Z,43,NET,4242,,0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,,,,,"
	    "udp,203.0.113.5,,,0,out,sent,,," NEW_EMPTY "\n");

	/* ::ffff:0:a.b.c.d and ::a.b.c.d are not mapped addresses */
	set_ip(&r.src, AF_INET6, "::ffff:0:203.0.113.5");
	set_ip(&r.dst, AF_INET6, "::1");
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.000001Z,43,NET,4242,,0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,,,,,"
	    "udp,::ffff:0:cb00:7105,,::1,0,out,sent,,," NEW_EMPTY "\n");
	sb_free(&sb);
}

/* an empty NET record at T_FIXED */
static void net_record_fixed(struct om_record *r)
{
	om_record_init(r, OM_EVENT_NET);
	r->time_ns = T_FIXED;
}

/* the recorder's own strings: plain ones copied, any other escaped and
 * quoted like every text field */
TEST(csv_own_strings_escaped_unless_plain)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;
	net_record_fixed(&r);
	r.result = "plain text: ok=1 (x)";
	CHECK(strstr(encode(&sb, &r), ",plain text: ok=1 (x),") != NULL);
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"a,b", ",\"a,b\","},
	    {"a\"b", ",\"a\"\"b\","},
	    {"a\\b", ",a\\x5cb,"},
	    {"a\x7f", ",a\\x7f,"},
	    {"a\x1f"
	     "b",
	     ",a\\x1fb,"},
	    {"a\xc3\xa9", ",a\xc3\xa9,"},
	    {"a\xff"
	     "b",
	     ",a\\xffb,"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.result = cases[i].in;
		const char *line = encode(&sb, &r);
		if (!strstr(line, cases[i].out))
			fprintf(stderr, "case %zu: %s", i, line);
		CHECK(strstr(line, cases[i].out) != NULL);
	}
	sb_free(&sb);
}

/* IPv4 formatted by hand: every octet value, in every place, as inet_ntop
 * writes it; mapped IPv6 the same */
TEST(csv_ipv4_every_octet)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;
	net_record_fixed(&r);
	for (unsigned v = 0; v < 256; v++) {
		uint8_t a[4] = {(uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7), (uint8_t)(v / 3)};
		for (int mapped = 0; mapped < 2; mapped++) {
			memset(&r.src, 0, sizeof(r.src));
			if (mapped) {
				r.src.family = AF_INET6;
				r.src.addr[10] = r.src.addr[11] = 0xff;
				memcpy(r.src.addr + 12, a, 4);
			} else {
				r.src.family = AF_INET;
				memcpy(r.src.addr, a, 4);
			}
			char want[INET_ADDRSTRLEN];
			CHECK(inet_ntop(AF_INET, a, want, sizeof(want)) != NULL);
			const char *line = encode(&sb, &r);
			/* src_ip is the 12th field */
			const char *f = line;
			for (int i = 0; i < 11; i++)
				f = strchr(f, ',') + 1;
			CHECK(strncmp(f, want, strlen(want)) == 0 && f[strlen(want)] == ',');
		}
	}
	sb_free(&sb);
}

/* The columns appended in 0.3, each in its place after detail. */
TEST(csv_appended_columns_exact)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;

	om_record_init(&r, OM_EVENT_INJECT);
	r.time_ns = T_FIXED;
	r.seq = 7;
	r.pid = 10;
	r.guid = guid_a;
	r.result = "ptrace_attach";
	r.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	r.cgroup = "/system.slice/a,b.service";
	r.cgroup_len = strlen(r.cgroup);
	r.container_id = "0123456789ab";
	r.target_pid = 11;
	r.target_guid = guid_b;
	r.dns_name = "example.com";
	r.dns_type = "AAAA";
	r.dns_answers = "CNAME www.example.com;AAAA 2001:db8::1";
	CHECK_EQ_STR(
	    encode(&sb, &r),
	    "2026-11-25T19:13:17.123456Z,7,INJECT,10,,0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,"
	    ",,,,,,,,,,ptrace_attach,,,,"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,"
	    "\"/system.slice/a,b.service\",0123456789ab,11,"
	    "11111111-2222-5333-8444-555555555555,example.com,AAAA,"
	    "CNAME www.example.com;AAAA 2001:db8::1\n");
	sb_free(&sb);
}

TEST(csv_other_kinds_exact)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;

	om_record_init(&r, OM_EVENT_MODLOAD);
	r.time_ns = 0;
	r.seq = 0;
	r.pid = 7;
	r.guid = guid_a;
	r.path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	r.path_len = strlen(r.path);
	CHECK_EQ_STR(encode(&sb, &r), "1970-01-01T00:00:00.000000Z,0,MODLOAD,7,,"
				      "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,,,,,,,,,,,,"
				      "/usr/lib/x86_64-linux-gnu/libc.so.6,," NEW_EMPTY "\n");

	om_record_init(&r, OM_EVENT_EXIT);
	r.time_ns = T_FIXED;
	r.seq = UINT64_MAX;
	r.pid = 7;
	r.result = "signal:SIGKILL";
	CHECK_EQ_STR(encode(&sb, &r),
		     "2026-11-25T19:13:17.123456Z,18446744073709551615,EXIT,7,,,,,,,"
		     ",,,,,,signal:SIGKILL,,," NEW_EMPTY "\n");

	om_record_init(&r, OM_EVENT_LOST);
	r.time_ns = T_FIXED;
	r.seq = 9;
	r.detail = "lost=12 kind=exec";
	r.pid = -1; /* negative numbers survive, though none is expected */
	CHECK_EQ_STR(encode(&sb, &r), "2026-11-25T19:13:17.123456Z,9,LOST,-1,,,,,,,,,,,,,,,,"
				      "lost=12 kind=exec" NEW_EMPTY "\n");
	sb_free(&sb);
}

TEST(csv_rfc4180_quoting)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;

	om_record_init(&r, OM_EVENT_START);
	r.time_ns = T_FIXED;
	r.seq = 1;
	r.exe = "/tmp/a,b";
	r.exe_len = 8;
	r.path = "/tmp/\"q\"";
	r.path_len = 8;
	r.detail = "version=1 note=\"x,y\" nl=\n";
	CHECK_EQ_STR(encode(&sb, &r),
		     "2026-11-25T19:13:17.123456Z,1,START,,,,,,\"/tmp/a,b\",,,,,,,,,"
		     "\"/tmp/\"\"q\"\"\",,\"version=1 note=\"\"x,y\"\" nl=\\x0a\"" NEW_EMPTY "\n");
	sb_free(&sb);
}

/* Encode r, check it is one line ending in its only "\n", split it and
 * check every field gives back the input. */
static int check_round_trip(const struct om_record *r)
{
	struct strbuf line = STRBUF_INIT, v = STRBUF_INIT;
	char *f[NCOL + 2];
	int ok = 1;

	csv_encode(&line, r);
	if (line.len == 0 || line.data[line.len - 1] != '\n' ||
	    memchr(line.data, '\n', line.len - 1) || memchr(line.data, '\r', line.len)) {
		fprintf(stderr, "    not one line: \"%s\"\n", line.data);
		sb_free(&line);
		return 0;
	}
	if (csv_split(line.data, line.len - 1, f, NCOL + 2) != NCOL) {
		sb_free(&line);
		return 0;
	}

	/* text columns: unescaping gives the raw bytes */
	struct {
		int col;
		const char *p;
		size_t n;
	} texts[] = {
	    {COL_GUID, r->guid, r->guid ? strlen(r->guid) : 0},
	    {COL_PARENT_GUID, r->parent_guid, r->parent_guid ? strlen(r->parent_guid) : 0},
	    {COL_EXE, r->exe, r->exe_len},
	    {COL_PROTO, r->proto, r->proto ? strlen(r->proto) : 0},
	    {COL_DIRECTION, r->direction, r->direction ? strlen(r->direction) : 0},
	    {COL_RESULT, r->result, r->result ? strlen(r->result) : 0},
	    {COL_PATH, r->path, r->path_len},
	    {COL_COMMUNITY_ID, r->community_id, r->community_id ? strlen(r->community_id) : 0},
	    {COL_DETAIL, r->detail, r->detail ? strlen(r->detail) : 0},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		sb_reset(&v);
		if (unescape_text(&v, f[texts[i].col], strlen(f[texts[i].col])) < 0 ||
		    v.len != texts[i].n || (v.len && memcmp(v.data, texts[i].p, v.len) != 0)) {
			fprintf(stderr, "    column %s differs: \"%s\"\n",
				log_col_names[texts[i].col], f[texts[i].col]);
			ok = 0;
		}
	}

	/* cmdline: decoding gives argv back */
	sb_reset(&v);
	if (cmdline_decode(&v, f[COL_CMDLINE], strlen(f[COL_CMDLINE])) < 0 ||
	    v.len != r->args_len || (v.len && memcmp(v.data, r->args, v.len) != 0)) {
		fprintf(stderr, "    cmdline differs: \"%s\"\n", f[9]);
		ok = 0;
	}

	/* numbers and time */
	char num[32];
	snprintf(num, sizeof(num), "%" PRIu64, r->seq);
	ok &= strcmp(f[1], num) == 0;
	ok &= strcmp(f[2], om_event_name(r->event)) == 0;
	snprintf(num, sizeof(num), "%" PRId64, r->pid);
	ok &= strcmp(f[3], r->pid == OM_NONE ? "" : num) == 0;
	uint64_t t;
	ok &= csv_parse_time(f[0], &t) == 0 && t == r->time_ns - r->time_ns % 1000;

	sb_free(&line);
	sb_free(&v);
	return ok;
}

TEST(csv_hostile_round_trip)
{
	static const char args[] =
	    "sh\0-c\0echo "
	    "hi\n2026-11-25T19:13:17.123456Z,2,EXEC,1,1,,,0,/bin/sh,\"sh\",,,,,,,,,,\n\0"
	    "\0a,b\0\"\"\0\\x41\0\xff\xc0\x80\0 \r\n\0";
	static const char exe[] =
	    "/tmp/evil\n1970-01-01T00:00:00.000000Z,1,EXEC,\"x\",\\x0a\xed\xa0\x80";
	static const char path[] = "/dev/shm/,\"\",\t\x7f";
	struct om_record r;

	om_record_init(&r, OM_EVENT_EXEC);
	r.time_ns = T_FIXED;
	r.seq = 3;
	r.pid = 99;
	r.guid = guid_a;
	r.exe = exe;
	r.exe_len = sizeof(exe) - 1;
	r.args = args;
	r.args_len = sizeof(args) - 1;
	r.has_cmdline = true;
	r.path = path;
	r.path_len = sizeof(path) - 1;
	r.result = "a\"b,c";
	r.detail = "deleted=1 memfd=1 name=\"x\ny\"";
	CHECK(check_round_trip(&r));

	/* the recorder's own strings are escaped too */
	r.proto = "tcp\n";
	r.direction = "o,ut";
	r.community_id = "1:\"";
	CHECK(check_round_trip(&r));
}

TEST(csv_fuzz_round_trip)
{
	/* fixed seed: random raw values in every text column */
	static const char pick[] = " ,\"\\x\n\r0a\xc3\xa9\xff\x80";
	char exe[40], path[40], args[80], detail[40];
	uint64_t s = 0x5eed;
	struct om_record r;

	for (int iter = 0; iter < 2000; iter++) {
		om_record_init(&r, (enum om_event)(iter % OM_EVENT_COUNT));
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		r.time_ns = s >> 1;
		r.seq = (uint64_t)iter;
		r.pid = iter % 3 ? (int64_t)iter : OM_NONE;
		r.exe_len = (s >> 40) % sizeof(exe);
		r.path_len = (s >> 48) % sizeof(path);
		size_t dlen = (s >> 20) % sizeof(detail);
		r.args_len = (s >> 8) % sizeof(args);
		for (size_t i = 0; i < sizeof(args); i++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			unsigned k = (unsigned)(s >> 33);
			exe[i % sizeof(exe)] = pick[k % (sizeof(pick) - 1)];
			path[i % sizeof(path)] = pick[(k >> 8) % (sizeof(pick) - 1)];
			args[i] = (k >> 16) % 5 == 0 ? '\0' : pick[(k >> 20) % (sizeof(pick) - 1)];
			if (i < sizeof(detail) - 1)
				detail[i] = pick[(k >> 24) % (sizeof(pick) - 1)];
		}
		/* the round-trip check compares whole argv: end it with a NUL */
		if (r.args_len)
			args[r.args_len - 1] = '\0';
		detail[dlen < sizeof(detail) ? dlen : sizeof(detail) - 1] = '\0';
		r.exe = exe;
		r.path = path;
		r.args = args;
		r.has_cmdline = true;
		r.detail = detail;
		CHECK(check_round_trip(&r));
	}
}

TEST(csv_appends_and_ends_lines)
{
	struct strbuf sb = STRBUF_INIT;
	struct om_record r;

	om_record_init(&r, OM_EVENT_STOP);
	r.time_ns = T_FIXED;
	log_write_header(&sb, false);
	csv_encode(&sb, &r);
	r.seq = 1;
	csv_encode(&sb, &r);
	struct strbuf want = STRBUF_INIT;
	sb_adds(&want, documented_header());
	sb_adds(&want, "2026-11-25T19:13:17.123456Z,0,STOP,,,,,,,,,,,,,,,,," NEW_EMPTY "\n"
		       "2026-11-25T19:13:17.123456Z,1,STOP,,,,,,,,,,,,,,,,," NEW_EMPTY "\n");
	CHECK_EQ_STR(sb_str(&sb), sb_str(&want));
	sb_free(&sb);
	sb_free(&want);
}

/* split a copy of s (its NUL is the writable line[len]) */
static int split(char *buf, size_t size, const char *s, char **f, size_t max)
{
	snprintf(buf, size, "%s", s);
	return csv_split(buf, strlen(s), f, max);
}

TEST(csv_split_valid)
{
	char buf[128], *f[8];

	CHECK_EQ_INT(split(buf, sizeof(buf), "a,\"b,c\",\"d\"\"e\",\"\"", f, 8), 4);
	CHECK_EQ_STR(f[0], "a");
	CHECK_EQ_STR(f[1], "b,c");
	CHECK_EQ_STR(f[2], "d\"e");
	CHECK_EQ_STR(f[3], "");
	CHECK_EQ_INT(split(buf, sizeof(buf), "", f, 8), 1);
	CHECK_EQ_STR(f[0], "");
	CHECK_EQ_INT(split(buf, sizeof(buf), "\"\"", f, 8), 1);
	CHECK_EQ_STR(f[0], "");
	CHECK_EQ_INT(split(buf, sizeof(buf), ",", f, 8), 2);
	CHECK_EQ_STR(f[0], "");
	CHECK_EQ_STR(f[1], "");
	CHECK_EQ_INT(split(buf, sizeof(buf), "\"a\"\"\",b,", f, 8), 3);
	CHECK_EQ_STR(f[0], "a\"");
	CHECK_EQ_STR(f[1], "b");
	CHECK_EQ_STR(f[2], "");
	CHECK_EQ_INT(split(buf, sizeof(buf), "\"\"\"\"\"\"", f, 8), 1);
	CHECK_EQ_STR(f[0], "\"\"");
	/* escapes are left alone */
	CHECK_EQ_INT(split(buf, sizeof(buf), "x\\x0a,\"\\x22\"", f, 8), 2);
	CHECK_EQ_STR(f[0], "x\\x0a");
	CHECK_EQ_STR(f[1], "\\x22");
	/* more fields than room: counted, not stored */
	f[2] = NULL;
	CHECK_EQ_INT(split(buf, sizeof(buf), "a,b,c,d", f, 2), 4);
	CHECK_EQ_STR(f[0], "a");
	CHECK_EQ_STR(f[1], "b");
	CHECK(f[2] == NULL);
	CHECK_EQ_INT(split(buf, sizeof(buf), "a,b", NULL, 0), 2);

	/* a line as read, "\n" included: len stops before it, and it becomes
	 * the last field's NUL */
	char line[] = "1,\"x,y\"\n";
	CHECK_EQ_INT(csv_split(line, sizeof(line) - 2, f, 8), 2);
	CHECK_EQ_STR(f[1], "x,y");
	char line2[] = "1,xy\n";
	CHECK_EQ_INT(csv_split(line2, sizeof(line2) - 2, f, 8), 2);
	CHECK_EQ_STR(f[1], "xy");
}

TEST(csv_split_malformed)
{
	/* clang-format off */
	static const char *const bad[] = {
		"a\"b",         /* quote inside an unquoted field */
		"a,b\"",        "a,b\"c,d",
		"\"a\"b",       /* text after the closing quote */
		"x,\"a\" ,y",   "\"a\"\"",     /* unterminated */
		"\"a",          "\"",          "a,\"",
		"\"a\"\"b",     "\"\"\"",
	};
	/* clang-format on */
	char buf[64], *f[8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(split(buf, sizeof(buf), bad[i], f, 8), -1);
	/* a raw NUL inside the line */
	char nul[] = "a,b\0c";
	CHECK_EQ_INT(csv_split(nul, sizeof(nul) - 1, f, 8), -1);
}

TEST(csv_time_fixed)
{
	char buf[32];
	uint64_t t = 1;

	csv_format_time(buf, sizeof(buf), T_FIXED);
	CHECK_EQ_STR(buf, "2026-11-25T19:13:17.123456Z");
	CHECK_EQ_INT(csv_parse_time(buf, &t), 0);
	CHECK(t == 1795633997123456000ull);

	csv_format_time(buf, sizeof(buf), 0);
	CHECK_EQ_STR(buf, "1970-01-01T00:00:00.000000Z");
	CHECK_EQ_INT(csv_parse_time(buf, &t), 0);
	CHECK(t == 0);

	/* truncated, never rounded into the next second */
	csv_format_time(buf, sizeof(buf), 1795633997999999999ull);
	CHECK_EQ_STR(buf, "2026-11-25T19:13:17.999999Z");

	csv_format_time(buf, sizeof(buf), UINT64_MAX);
	CHECK_EQ_STR(buf, "2554-07-21T23:34:33.709551Z");
	CHECK_EQ_INT(csv_parse_time(buf, &t), 0);
	CHECK(t == UINT64_MAX - 615);

	CHECK_EQ_INT(csv_parse_time("2024-02-29T23:59:59.000000Z", &t), 0);
	CHECK(t == 1709251199000000000ull);
	CHECK_EQ_INT(csv_parse_time("2000-02-29T00:00:00.000000Z", &t), 0);
	CHECK(t == 951782400000000000ull);
	CHECK_EQ_INT(csv_parse_time("1999-12-31T23:59:59.999999Z", &t), 0);
	CHECK(t == 946684799999999000ull);

	/* a small buffer gets a cut, terminated string */
	csv_format_time(buf, 11, T_FIXED);
	CHECK_EQ_STR(buf, "2026-11-25");

	/* the date and time of day are kept from one call to the next: the
	 * same second again, the next one, and back */
	csv_format_time(buf, sizeof(buf), T_FIXED + 1000);
	CHECK_EQ_STR(buf, "2026-11-25T19:13:17.123457Z");
	csv_format_time(buf, sizeof(buf), T_FIXED + 1000000000ull);
	CHECK_EQ_STR(buf, "2026-11-25T19:13:18.123456Z");
	csv_format_time(buf, sizeof(buf), T_FIXED - 123456789ull);
	CHECK_EQ_STR(buf, "2026-11-25T19:13:17.000000Z");
	csv_format_time(buf, sizeof(buf), T_FIXED + 86400000000000ull);
	CHECK_EQ_STR(buf, "2026-11-26T19:13:17.123456Z");
}

TEST(csv_time_round_trip)
{
	char buf[32];
	uint64_t s = 12345, t;

	for (int i = 0; i < 20000; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t ns = i % 2 ? s : s % 4102444800000000000ull; /* half before 2100 */
		csv_format_time(buf, sizeof(buf), ns);
		CHECK_EQ_INT(strlen(buf), 27);
		CHECK_EQ_INT(csv_parse_time(buf, &t), 0);
		CHECK(t == ns - ns % 1000);
	}
}

TEST(csv_time_parse_errors)
{
	static const char *const bad[] = {
	    "",
	    "2026-11-25T19:13:17Z",
	    "2026-11-25T19:13:17.123Z",
	    "2026-11-25 19:13:17.123456Z",
	    "2026-11-25T19:13:17.123456",
	    "2026-11-25T19:13:17.123456z",
	    "2026-11-25T19:13:17.123456Z ",
	    "2026-11-25T19:13:17.123456+00:00",
	    "2026-11-25T19:13:17,123456Z",
	    "2026-11-25T19:13:17.12345aZ",
	    "+026-11-25T19:13:17.123456Z",
	    "2026-00-25T19:13:17.123456Z",
	    "2026-13-25T19:13:17.123456Z",
	    "2026-11-00T19:13:17.123456Z",
	    "2026-11-31T19:13:17.123456Z",
	    "2023-02-29T00:00:00.000000Z",
	    "2100-02-29T00:00:00.000000Z",
	    "2026-11-25T24:00:00.000000Z",
	    "2026-11-25T23:60:00.000000Z",
	    "2026-11-25T23:59:60.000000Z",
	    "1969-12-31T23:59:59.999999Z",
	    "2554-07-21T23:34:33.709552Z", /* one µs past what 64-bit ns hold */
	    "9999-12-31T23:59:59.999999Z",
	};
	uint64_t t = 77;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (csv_parse_time(bad[i], &t) != -1)
			TEST_FAIL_("csv_parse_time accepted \"%s\"", bad[i]);
	}
	CHECK(t == 77);
}
