/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the investigation commands print cannot act on the investigator's
 * terminal: a log written before the escaping covered C1 controls and the
 * bidirectional overrides, or a forged one, can hold them (and raw control
 * bytes, invalid UTF-8) in exe, cmdline, path or detail. Every output form of
 * cat, who, tree, timeline and correlate shows them as their \xHH escapes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "query/commands.h"
#include "query/output.h"
#include "test.h"
#include "util/strbuf.h"

int tq_run(int (*fn)(int, char **), const char *const *argv, char **out, char **err);
char *tq_tempdir(void);
void tq_write_str(const char *dir, const char *name, const char *text);
void tq_rmdir(char *dir);

#define HOSTILE_HEADER                                                                             \
	"time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"          \
	"dst_ip,dst_port,direction,result,path,community_id,detail\n"

#define GUID_A "6f1c029a-0000-4000-8000-00000000029a"

/* RLO in exe; ESC, LINE SEPARATOR and C1 CSI in cmdline; an isolate and a raw
 * invalid byte (0x9b, CSI to an 8-bit terminal) in path; TAB and DEL in
 * detail */
static const char hostile_log[] =
    HOSTILE_HEADER "2026-11-25T10:00:00.000000Z,1,START,,,,,,,,,,,,,,,,,version=0.1.0\n"
		   "2026-11-25T10:00:01.000000Z,2,EXEC,666,1," GUID_A ",,1000,"
		   "/tmp/evil\xe2\x80\xaegpj.exe,"
		   "evil \x1b[2J\xe2\x80\xa8\xc2\x9b"
		   "31m,,,,,,,,,,note=\t\x7f\n"
		   "2026-11-25T10:00:01.100000Z,3,MODLOAD,666,1," GUID_A ",,1000,,,,,,,,,,"
		   "/tmp/lib\xe2\x81\xa6x\x9b.so,,\n"
		   "2026-11-25T10:00:02.000000Z,4,NET,666,1," GUID_A ",,1000,,,tcp,192.0.2.10,"
		   "40001,203.0.113.50,443,out,established,,,\n"
		   "2026-11-25T10:00:03.000000Z,5,EXIT,666,1," GUID_A ",,1000,,,,,,,,,exit:0,,,\n";

/* The escaped forms each output must show instead (as text, not JSON) */
static const char *const shown[] = {
    "evil\\xe2\\x80\\xaegpj.exe",
    "\\x1b[2J\\xe2\\x80\\xa8\\xc2\\x9b31m",
    "lib\\xe2\\x81\\xa6x\\x9b.so",
    "note=\\x09\\x7f",
};

/* Where s holds what a terminal acts on: a control byte other than LF, DEL,
 * a byte that is not valid UTF-8, or a code point that the log's escaping
 * covers (docs/FORMAT.md); NULL when it holds none. Written plainly, apart
 * from the escaper. */
static const char *terminal_unsafe_at(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p == '\n' || (*p >= 0x20 && *p < 0x7f)) {
			p++;
			continue;
		}
		uint32_t cp;
		int n;
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 2, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 3, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 4, cp = *p & 0x07;
		else
			return (const char *)p;
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (const char *)p;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (const char *)p;
		if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x200e || cp == 0x200f || cp == 0x061c)
			return (const char *)p;
		p += n;
	}
	return NULL;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A capture with the hostile process's SYN */
static bool write_syn_capture(const char *path)
{
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, path) : NULL;
	if (!d) {
		if (dead)
			pcap_close(dead);
		return false;
	}
	uint8_t b[40] = {0x45};
	put_be16(b + 2, sizeof(b));
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "192.0.2.10", b + 12);
	inet_pton(AF_INET, "203.0.113.50", b + 16);
	put_be16(b + 20, 40001);
	put_be16(b + 22, 443);
	b[32] = 5 << 4;
	b[33] = 0x02;
	uint64_t ns = 0;
	csv_parse_time("2026-11-25T10:00:02.001000Z", &ns);
	struct pcap_pkthdr h = {.caplen = sizeof(b), .len = sizeof(b)};
	h.ts.tv_sec = (time_t)(ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
	pcap_dump((u_char *)d, &h, b);
	pcap_dump_close(d);
	pcap_close(dead);
	return true;
}

/* Run one command; its output must be safe to show and, with expect, hold
 * each escaped form (in JSON, each backslash of it written "\\"). */
static int check_output(int (*fn)(int, char **), const char *const *argv, bool json,
			const char *const *expect, size_t nexpect)
{
	char *out = NULL, *err = NULL;
	int ok = 1;
	int rc = tq_run(fn, argv, &out, &err);
	if (rc != 0 || !out) {
		fprintf(stderr, "  %s %s: exit %d: %s\n", argv[0], argv[3] ? argv[3] : "", rc,
			err ? err : "");
		ok = 0;
	} else {
		const char *bad = terminal_unsafe_at(out);
		if (bad) {
			fprintf(stderr, "  %s %s: byte 0x%02x at offset %zu is shown raw\n",
				argv[0], argv[3] ? argv[3] : "", (unsigned char)*bad,
				(size_t)(bad - out));
			ok = 0;
		}
		for (size_t i = 0; i < nexpect; i++) {
			struct strbuf want = STRBUF_INIT;
			for (const char *p = expect[i]; *p; p++) {
				if (json && *p == '\\')
					sb_addc(&want, '\\');
				sb_addc(&want, *p);
			}
			if (!strstr(out, sb_str(&want))) {
				fprintf(stderr, "  %s %s: \"%s\" not in the output:\n%s", argv[0],
					argv[3] ? argv[3] : "", sb_str(&want), out);
				ok = 0;
			}
			sb_free(&want);
		}
	}
	if (!ok && err)
		fprintf(stderr, "  stderr: %s", err);
	if (err && terminal_unsafe_at(err)) {
		fprintf(stderr, "  %s: stderr shows a byte raw\n", argv[0]);
		ok = 0;
	}
	free(out);
	free(err);
	return ok;
}

#define N(a) (sizeof(a) / sizeof(a[0]))

TEST(query_outputs_escape_what_a_terminal_acts_on)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", hostile_log);
	char cap[600];
	snprintf(cap, sizeof(cap), "%s/syn.pcap", dir);
	CHECK(write_syn_capture(cap));
	const char *exe_cmd[] = {shown[0], shown[1]};
	const char *all[] = {shown[0], shown[1], shown[2], shown[3]};
	const char *exe_cmd_path[] = {shown[0], shown[1], shown[2]};

	const char *cat[] = {"cat", "-d", dir, NULL};
	CHECK(check_output(cmd_cat, cat, false, all, N(all)));

	/* cat converting to JSON Lines: the escapes are JSON-escaped (a raw
	 * control byte is a JSON \u00XX there, as the JSON Lines encoder writes
	 * every control: shown as text, it is not one) */
	const char *cat_jsonl[] = {"cat", "-d", dir, "--format", "jsonl", NULL};
	const char *exe_path[] = {shown[0], shown[2]};
	CHECK(check_output(cmd_cat, cat_jsonl, true, exe_path, N(exe_path)));

	const char *who[] = {"who", "-d", dir, NULL};
	CHECK(check_output(cmd_who, who, false, exe_cmd, N(exe_cmd)));
	const char *who_csv[] = {"who", "-d", dir, "--csv", NULL};
	CHECK(check_output(cmd_who, who_csv, false, exe_cmd, N(exe_cmd)));
	const char *who_json[] = {"who", "-d", dir, "--json", NULL};
	CHECK(check_output(cmd_who, who_json, true, exe_cmd, N(exe_cmd)));

	const char *tree[] = {"tree", "-d", dir, "--pid", "666", NULL};
	CHECK(check_output(cmd_tree, tree, false, exe_cmd_path, N(exe_cmd_path)));
	const char *tree_csv[] = {"tree", "-d", dir, "--csv", "--pid", "666", NULL};
	CHECK(check_output(cmd_tree, tree_csv, false, exe_cmd_path, N(exe_cmd_path)));
	const char *tree_json[] = {"tree", "-d", dir, "--json", "--pid", "666", NULL};
	CHECK(check_output(cmd_tree, tree_json, true, exe_cmd_path, N(exe_cmd_path)));

	const char *timeline[] = {"timeline", "-d", dir, NULL};
	CHECK(check_output(cmd_timeline, timeline, false, all, N(all)));
	const char *timeline_csv[] = {"timeline", "-d", dir, "--csv", NULL};
	CHECK(check_output(cmd_timeline, timeline_csv, false, all, N(all)));
	const char *timeline_json[] = {"timeline", "-d", dir, "--json", NULL};
	CHECK(check_output(cmd_timeline, timeline_json, true, all, N(all)));

	const char *corr[] = {"correlate", "-d", dir, cap, NULL};
	CHECK(check_output(cmd_correlate, corr, false, exe_cmd, N(exe_cmd)));
	const char *corr_csv[] = {"correlate", "-d", dir, "--csv", cap, NULL};
	CHECK(check_output(cmd_correlate, corr_csv, false, exe_cmd, N(exe_cmd)));
	const char *corr_json[] = {"correlate", "-d", dir, "--json", cap, NULL};
	CHECK(check_output(cmd_correlate, corr_json, true, exe_cmd, N(exe_cmd)));
	tq_rmdir(dir);
}

TEST(query_cat_of_a_jsonl_log_escapes_what_a_terminal_acts_on)
{
	/* a JSON Lines log with an override written raw and one written as a
	 * JSON escape: cat shows neither raw, in either format */
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.jsonl",
		     "{\"@timestamp\":\"2026-11-25T10:00:01.000000Z\",\"event.sequence\":1,"
		     "\"event.action\":\"EXEC\",\"process.pid\":666,"
		     "\"process.executable\":\"/tmp/evil\xe2\x80\xaegpj.exe\","
		     "\"process.command_line\":\"evil\\u2028x\\u001b[2J\"}\n");
	const char *cat[] = {"cat", "-d", dir, NULL};
	const char *exe[] = {shown[0]};
	CHECK(check_output(cmd_cat, cat, true, exe, N(exe)));
	const char *cat_csv[] = {"cat", "-d", dir, "--format", "csv", NULL};
	const char *both[] = {shown[0], "evil\\xe2\\x80\\xa8x\\x1b[2J"};
	CHECK(check_output(cmd_cat, cat_csv, false, both, N(both)));
	tq_rmdir(dir);
}

TEST(query_cut_path_shown_with_its_mark)
{
	/* exe and path cut at the kernel's limit start with the "\\..." mark;
	 * every output shows it as it is, never as a whole path */
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv",
		     HOSTILE_HEADER
		     "2026-11-25T10:00:01.000000Z,1,EXEC,666,1," GUID_A ",,1000,"
		     "\\.../d/d/true,./true,,,,,,,,,,path_truncated=1\n"
		     "2026-11-25T10:00:01.100000Z,2,MODLOAD,666,1," GUID_A ",,1000,,,,,,,,,,"
		     "\\.../d/libx.so,,path_truncated=1\n"
		     "2026-11-25T10:00:02.000000Z,3,NET,666,1," GUID_A ",,1000,,,tcp,192.0.2.10,"
		     "40001,203.0.113.50,443,out,established,,,\n");
	const char *mark[] = {"\\.../d/d/true"};
	const char *both[] = {"\\.../d/d/true", "\\.../d/libx.so"};
	const char *who[] = {"who", "-d", dir, NULL};
	CHECK(check_output(cmd_who, who, false, mark, N(mark)));
	const char *who_json[] = {"who", "-d", dir, "--json", NULL};
	CHECK(check_output(cmd_who, who_json, true, mark, N(mark)));
	const char *tree[] = {"tree", "-d", dir, "--pid", "666", NULL};
	CHECK(check_output(cmd_tree, tree, false, both, N(both)));
	const char *tree_json[] = {"tree", "-d", dir, "--pid", "666", "--json", NULL};
	CHECK(check_output(cmd_tree, tree_json, true, both, N(both)));
	const char *timeline[] = {"timeline", "-d", dir, NULL};
	CHECK(check_output(cmd_timeline, timeline, false, both, N(both)));
	/* converted to JSON Lines and back, the mark stays */
	const char *cat_jsonl[] = {"cat", "-d", dir, "--format", "jsonl", NULL};
	CHECK(check_output(cmd_cat, cat_jsonl, true, both, N(both)));
	tq_rmdir(dir);
}

TEST(query_json_strings_carry_the_escaped_text)
{
	/* a JSON string decodes to the text the log shows: its escapes stay,
	 * and what the log escapes is written as that escape, never as a raw
	 * character or a \u escape that decodes to one */
	struct strbuf sb = STRBUF_INIT;
	json_str(&sb, "a\x1b[2J\xe2\x80\xae\xc2\x85\xe2\x80\xa8\x7f\t\xc3\xa9\\x0a\"");
	CHECK_EQ_STR(sb_str(&sb), "\"a\\\\x1b[2J\\\\xe2\\\\x80\\\\xae\\\\xc2\\\\x85\\\\xe2\\\\x80"
				  "\\\\xa8\\\\x7f\\\\x09\xc3\xa9\\\\x0a\\\"\"");
	sb_free(&sb);
}

TEST(query_table_widths_count_the_escapes_shown)
{
	/* a cell is measured as it is shown, so the columns after it line up */
	const char *headers[] = {"A", "B"};
	struct table *t = table_new(2, headers);
	const char *row1[] = {"x\xe2\x80\xae", "1"};
	const char *row2[] = {"x\\xe2\\x80\\xae", "2"};
	table_add(t, row1, NULL);
	table_add(t, row2, NULL);
	struct strbuf sb = STRBUF_INIT;
	table_print(t, &sb);
	CHECK_EQ_STR(sb_str(&sb), "A              B\n"
				  "x\\xe2\\x80\\xae  1\n"
				  "x\\xe2\\x80\\xae  2\n");
	table_free(t);
	sb_free(&sb);
}
