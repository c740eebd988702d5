/* SPDX-License-Identifier: BSD-2-Clause */
/* The log reader, the filters and the investigation commands (cat, who, tree,
 * timeline, correlate) on hand-built logs (tests/data/query), damaged ones, and
 * the same logs in JSON Lines. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log/convert.h"
#include "log/csv.h"
#include "log/schema.h"
#include "query/commands.h"
#include "query/filter.h"
#include "query/output.h"
#include "query/reader.h"
#include "test.h"
#include "test_query_util.h"

#define HEADER                                                                                     \
	"time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"          \
	"dst_ip,dst_port,direction,result,path,community_id,detail\n"

#define REC(sec, seq) "2026-11-25T10:00:" sec ".000000Z," seq ",EXIT,5,1,g5,,0,,,,,,,,,exit:0,,,\n"

static uint64_t t_of(const char *s)
{
	uint64_t t = 0;
	csv_parse_time(s, &t);
	return t;
}

/* who on the zeus fixture with extra arguments; returns the JSON lines */
static int who_json(const char *a1, const char *a2, const char *a3, const char *a4, char **out,
		    char **err)
{
	const char *argv[12] = {"who", "--json", "--log-dir", tq_fixture("zeus")};
	int n = 4;
	const char *extra[] = {a1, a2, a3, a4};
	for (int i = 0; i < 4 && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return tq_run(cmd_who, argv, out, err);
}

static int who_count(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *out, *err;
	int rc = who_json(a1, a2, a3, a4, &out, &err);
	int n = rc == 0 ? tq_count_lines(out) : -1;
	free(out);
	free(err);
	return n;
}

/* ---- segments and the reader ---- */

TEST(query_segments_in_order)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", HEADER);
	tq_write_str(dir, "onmitsu-20261125T110000.000000Z-000000000011.csv", HEADER);
	tq_write_zst(dir, "onmitsu-20261125T100000.000000Z-000000000010.csv.zst", HEADER, 0);
	tq_write_str(dir, "onmitsu-20261125T090000.000000Z-000000000001.csv", HEADER);
	/* being compressed right now: the plain one is complete, read it alone */
	tq_write_str(dir, "onmitsu-20261125T120000.000000Z-000000000012.csv", HEADER);
	tq_write_zst(dir, "onmitsu-20261125T120000.000000Z-000000000012.csv.zst", HEADER, 5);
	tq_write_str(dir, "other.csv", HEADER);
	tq_write_str(dir, "onmitsu-20261125T130000.000000Z-000000000013.csv.zst.tmp", "x");
	char **paths;
	CHECK_EQ_INT(log_segments(dir, &paths), 5);
	const char *want[] = {"onmitsu-20261125T090000.000000Z-000000000001.csv",
			      "onmitsu-20261125T100000.000000Z-000000000010.csv.zst",
			      "onmitsu-20261125T110000.000000Z-000000000011.csv",
			      "onmitsu-20261125T120000.000000Z-000000000012.csv", "onmitsu.csv"};
	for (int i = 0; i < 5; i++)
		CHECK_EQ_STR(strrchr(paths[i], '/') + 1, want[i]);
	CHECK(paths[5] == NULL);
	log_segments_free(paths);
	tq_rmdir(dir);
}

TEST(query_cat_joins_segments_with_one_header)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu-20261125T090000.000000Z-000000000001.csv",
		     HEADER REC("01", "1") REC("02", "2"));
	tq_write_zst(dir, "onmitsu-20261125T093000.000000Z-000000000003.csv.zst",
		     HEADER REC("03", "3") REC("04", "4"), 0);
	tq_write_str(dir, "onmitsu.csv", HEADER REC("05", "5"));
	char *out, *err;
	const char *argv[] = {"cat", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 0);
	CHECK_EQ_STR(out, HEADER REC("01", "1") REC("02", "2") REC("03", "3") REC("04", "4")
			      REC("05", "5"));
	CHECK_EQ_STR(err, "");
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_cat_is_byte_faithful)
{
	char *out, *err;
	const char *argv[] = {"cat", "-d", tq_fixture("zeus"), NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/onmitsu.csv", tq_fixture("zeus"));
	char *file = tq_read_file(path);
	CHECK_EQ_STR(out, file);
	free(file);
	free(out);
	free(err);
}

/* A line longer than any record (log/schema.h LOG_LINE_MAX) is skipped with
 * its number, in a plain and in a compressed segment, and the records after
 * it are read: the query reader takes its lines from log/segment.h's
 * seg_reader like verify and the forwarder, in its skipping mode. */
TEST(query_overlong_line_skipped_and_reading_goes_on)
{
	char *dir = tq_tempdir();
	struct strbuf text = STRBUF_INIT, long_line = STRBUF_INIT;
	for (size_t i = 0; i < LOG_LINE_MAX + 1000; i++)
		sb_addc(&long_line, 'x');
	sb_addc(&long_line, '\n');
	sb_adds(&text, HEADER REC("01", "1"));
	sb_add(&text, long_line.data, long_line.len);
	sb_adds(&text, REC("03", "3"));
	tq_write(dir, "onmitsu-20261125T100001.000000Z-000000000001.csv", text.data, text.len);
	sb_reset(&text);
	sb_adds(&text, HEADER REC("04", "4"));
	sb_add(&text, long_line.data, long_line.len);
	sb_adds(&text, REC("06", "6"));
	tq_write_zst(dir, "onmitsu-20261125T100004.000000Z-000000000004.csv.zst", sb_str(&text), 0);
	char *out, *err;
	const char *argv[] = {"cat", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 0);
	CHECK_EQ_STR(out, HEADER REC("01", "1") REC("03", "3") REC("04", "4") REC("06", "6"));
	CHECK(strstr(err, "000000000001.csv:3: line longer than 1048576 bytes; record skipped"));
	CHECK(
	    strstr(err, "000000000004.csv.zst:3: line longer than 1048576 bytes; record skipped"));
	free(out);
	free(err);
	sb_free(&text);
	sb_free(&long_line);
	tq_rmdir(dir);
}

TEST(query_bad_lines_reported_and_skipped)
{
	char *dir = tq_tempdir();
	/* line 2 good; 3 bad quoting; 4 too few fields; 5 binary garbage with a NUL;
	 * 6 bad time; 7 bad number; 8 good; 9 empty; 10 good; 11 cut short */
	static const char garbage[] = "\x01\xff\xfe\x00\x80,,,\x1b[2J";
	char text[4096];
	size_t n = 0;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", HEADER, REC("01", "1"));
	n += (size_t)snprintf(
	    text + n, sizeof(text) - n,
	    "2026-11-25T10:00:02.000000Z,2,EXEC,5,1,g5,,0,/bin/x,\"a \"b,,,,,,,,,,\n"
	    "2026-11-25T10:00:03.000000Z,3,EXIT,5,1\n");
	memcpy(text + n, garbage, sizeof(garbage) - 1);
	n += sizeof(garbage) - 1;
	text[n++] = '\n';
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "2026-13-25T10:00:04.000000Z,4,EXIT,5,1,g5,,0,,,,,,,,,exit:0,,,\n"
			      "2026-11-25T10:00:05.000000Z,5,EXIT,five,1,g5,,0,,,,,,,,,exit:0,,,\n"
			      "%s\n%s"
			      "2026-11-25T10:00:08.000000Z,8,EXIT,5,1,g5,,0,,,,",
			      REC("06", "6"), REC("07", "7"));
	tq_write(dir, "onmitsu.csv", text, n);
	char *out, *err;
	const char *argv[] = {"cat", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 0);
	CHECK_EQ_STR(out, HEADER REC("01", "1") REC("06", "6") REC("07", "7"));
	CHECK(strstr(err, "onmitsu.csv:3: malformed quoting; record skipped"));
	CHECK(strstr(err, "onmitsu.csv:4: 5 fields where the header has 20; record skipped"));
	CHECK(strstr(err, "onmitsu.csv:5: binary data (a NUL byte) in the line; record skipped"));
	CHECK(strstr(err, "onmitsu.csv:6: bad time \"2026-13-25T10:00:04.000000Z\""));
	CHECK(strstr(err, "onmitsu.csv:7: bad number \"five\" in column pid"));
	CHECK(strstr(err, "onmitsu.csv:9: empty line"));
	CHECK(strstr(err, "onmitsu.csv:11: incomplete last line"));
	/* the other commands read past them the same way */
	free(out);
	free(err);
	const char *who[] = {"who", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_who, who, &out, &err), 0);
	CHECK(strstr(err, "onmitsu.csv:3: malformed quoting"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_many_bad_lines_are_counted_not_flooded)
{
	char *dir = tq_tempdir();
	struct strbuf text = STRBUF_INIT;
	sb_adds(&text, HEADER);
	for (int i = 0; i < 500; i++)
		sb_adds(&text, "garbage\n");
	sb_adds(&text, REC("01", "1"));
	tq_write_str(dir, "onmitsu.csv", sb_str(&text));
	sb_free(&text);
	char *out, *err;
	const char *argv[] = {"cat", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 0);
	CHECK_EQ_STR(out, HEADER REC("01", "1"));
	CHECK_EQ_INT(tq_count_lines(err), LOG_MAX_REPORTS + 1);
	CHECK(strstr(err, "480 more unreadable lines skipped"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_truncated_compressed_segment)
{
	char *dir = tq_tempdir();
	struct strbuf text = STRBUF_INIT;
	sb_adds(&text, HEADER);
	/* enough for several zstd blocks, so that some decode before the cut */
	for (int i = 0; i < 50000; i++)
		sb_addf(&text,
			"2026-11-25T10:00:00.%06dZ,%d,EXIT,%d,1,g%ld,,0,,,,,,,,,exit:%d,,,\n", i,
			i + 1, i * 7919 % 32768, (long)i * 104729, i * 31 % 256);
	size_t full = tq_write_zst(dir, "onmitsu-20261125T090000.000000Z-000000000001.csv.zst",
				   sb_str(&text), 0);
	tq_write_zst(dir, "onmitsu-20261125T090000.000000Z-000000000001.csv.zst", sb_str(&text),
		     full / 2);
	tq_write_str(dir, "onmitsu.csv", HEADER REC("01", "1"));
	char *out, *err;
	const char *argv[] = {"cat", "--log-dir", dir, NULL};
	/* what could be read is printed; the damage is named; the command fails */
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 1);
	CHECK(strstr(err, "onmitsu-20261125T090000.000000Z-000000000001.csv.zst: compressed data "
			  "ends in the middle"));
	CHECK(strstr(out, REC("01", "1")));
	CHECK(tq_count_lines(out) > 2);
	free(out);
	free(err);
	/* garbage where zstd data should be */
	tq_write_str(dir, "onmitsu-20261125T090000.000000Z-000000000001.csv.zst",
		     "this is not zstd at all\n");
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 1);
	CHECK(strstr(err, "corrupt compressed data"));
	CHECK_EQ_STR(out, HEADER REC("01", "1"));
	free(out);
	free(err);
	sb_free(&text);
	tq_rmdir(dir);
}

TEST(query_reader_closed_early)
{
	/* a consumer that stops reading (a full disk, a pipe closed) must not
	 * hang or leak; several batches' worth of records */
	char *dir = tq_tempdir();
	struct strbuf text = STRBUF_INIT;
	sb_adds(&text, HEADER);
	for (int i = 0; i < 30000; i++)
		sb_addf(&text, "2026-11-25T10:00:00.%06dZ,%d,EXIT,%d,1,g%d,,0,,,,,,,,,exit:0,,,\n",
			i, i + 1, i, i);
	tq_write_str(dir, "onmitsu.csv", sb_str(&text));
	sb_free(&text);
	for (int stop_after = 0; stop_after < 30000; stop_after += 9999) {
		char err[256];
		struct log_reader *r = log_reader_open(dir, NULL, err, sizeof(err));
		CHECK(r != NULL);
		struct log_record rec;
		for (int i = 0; i < stop_after; i++) {
			CHECK_EQ_INT(log_reader_next(r, &rec), 1);
			CHECK_EQ_INT(log_record_num(&rec, COL_SEQ), i + 1);
		}
		log_reader_close(r);
	}
	/* read to the end, on both threads and on one */
	for (int single = 0; single < 2; single++) {
		char err[256];
		struct log_reader_opts opts = {.single_thread = single};
		struct log_reader *r = log_reader_open(dir, &opts, err, sizeof(err));
		struct log_record rec;
		int n = 0;
		while (log_reader_next(r, &rec) > 0)
			n++;
		CHECK_EQ_INT(n, 30000);
		CHECK_EQ_INT(log_reader_records(r), 30000);
		CHECK(!log_reader_failed(r));
		log_reader_close(r);
	}
	tq_rmdir(dir);
}

TEST(query_missing_log_fails_clearly)
{
	char *out, *err;
	const char *argv[] = {"who", "--log-dir", "/nonexistent/onmitsu", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 1);
	CHECK(strstr(err, "cannot read log directory /nonexistent/onmitsu"));
	free(out);
	free(err);
	char *dir = tq_tempdir();
	const char *argv2[] = {"cat", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv2, &out, &err), 1);
	CHECK(strstr(err, "no log in"));
	free(out);
	free(err);
	tq_write_str(dir, "onmitsu.jsonl", "{}\n");
	CHECK_EQ_INT(tq_run(cmd_cat, argv2, &out, &err), 1);
	/* JSON Lines logs are read (log/convert.h); this line is no record */
	CHECK(strstr(err, "onmitsu.jsonl:1: not an onmitsu JSON Lines record"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_columns_found_by_name)
{
	/* columns in another order, and one this reader does not know */
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv",
		     "seq,time,event,guid,pid,proto,dst_ip,dst_port,src_ip,src_port,direction,"
		     "result,exe,cmdline,chain\n"
		     "1,2026-11-25T10:00:00.000000Z,EXEC,g9,9,,,,,,,,/usr/bin/nc,nc x 9,abc\n"
		     "2,2026-11-25T10:00:01.000000Z,NET,g9,9,tcp,203.0.113.9,9,192.0.2.10,"
		     "40999,out,established,,,def\n"
		     "3,2026-11-25T10:00:02.000000Z,FUTURE_EVENT,,,,,,,,,,,,ghi\n");
	char *out, *err;
	const char *argv[] = {"who", "--json", "--log-dir", dir, "--dst", "203.0.113.9:9", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 0);
	CHECK(strstr(out, "\"exe\":\"/usr/bin/nc\",\"cmdline\":\"nc x 9\""));
	CHECK(strstr(out, "\"src_port\":40999"));
	CHECK_EQ_STR(err, "");
	free(out);
	free(err);
	tq_rmdir(dir);
}

/* ---- filters ---- */

TEST(query_relative_times)
{
	uint64_t now = t_of("2026-11-25T20:00:00.000000Z"), t;
	char err[256];
	CHECK_EQ_INT(parse_time_arg("-2h", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T18:00:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("-30m", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:30:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("-1d", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-24T20:00:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("-90s", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:58:30.000000Z"));
	CHECK_EQ_INT(parse_time_arg("-1h30m", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T18:30:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("-1w", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-18T20:00:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("now", now, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, now);
	const char *bad[] = {"-", "-2", "-h", "2h", "-2y", "-2h-", "yesterday", "", "-9999999999h"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse_time_arg(bad[i], now, &t, err, sizeof(err)), -1);
		CHECK(strstr(err, "is not a time"));
		CHECK(strstr(err, "-2h"));
	}
}

/* Found by tests/fuzz/fuzz_args: a time past 2554 wrapped around 64-bit
 * nanoseconds to an earlier one ("5534-02-18" read as a day in 2026), and a
 * relative time longer than 584 years wrapped to one after the epoch. */
TEST(query_times_beyond_64bit_ns)
{
	uint64_t now = t_of("2026-11-25T20:00:00.000000Z"), t = 1;
	char err[256];
	CHECK_EQ_INT(parse_time_arg("2554-07-21T23:34:33Z", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, 18446744073000000000ull);
	const char *bad[] = {"2554-07-21T23:34:34Z", "2554-07-21T23:34:33.8Z", "5534-02-18",
			     "9999-12-31T23:59:59Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse_time_arg(bad[i], 0, &t, err, sizeof(err)), -1);
		CHECK(strstr(err, "is not a time"));
	}
	const char *long_ago[] = {"-999999999w", "-31000w", "-999999999w999999999w999999999d"};
	for (size_t i = 0; i < sizeof(long_ago) / sizeof(long_ago[0]); i++) {
		t = 1;
		CHECK_EQ_INT(parse_time_arg(long_ago[i], now, &t, err, sizeof(err)), 0);
		CHECK_EQ_INT(t, 0);
	}
}

TEST(query_iso_times)
{
	uint64_t t;
	char err[256];
	CHECK_EQ_INT(parse_time_arg("2026-11-25T19:13:17Z", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:13:17.000000Z"));
	CHECK_EQ_INT(parse_time_arg("2026-11-25T19:13:17.123456Z", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:13:17.123456Z"));
	CHECK_EQ_INT(parse_time_arg("2026-11-25T19:13:17.5Z", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:13:17.500000Z"));
	CHECK_EQ_INT(parse_time_arg("2026-11-25 19:13Z", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:13:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("2026-11-26T04:13:17+09:00", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T19:13:17.000000Z"));
	CHECK_EQ_INT(parse_time_arg("2026-11-25", 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t, t_of("2026-11-25T00:00:00.000000Z"));
	CHECK_EQ_INT(parse_time_arg("2028-02-29T00:00:00Z", 0, &t, err, sizeof(err)), 0);
	const char *bad[] = {"2026-11-31T00:00:00Z",
			     "2027-02-29",
			     "2026-11-25T25:00:00Z",
			     "2026-11-25T19:13:17.Z",
			     "2026-11-25T19:13:17Zjunk",
			     "26-11-25",
			     "2026/11/25"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse_time_arg(bad[i], 0, &t, err, sizeof(err)), -1);
}

TEST(query_endpoints)
{
	struct endpoint ep;
	char err[256];
	CHECK_EQ_INT(parse_endpoint("203.0.113.7:443", &ep, err, sizeof(err)), 0);
	CHECK(ep.has_addr && ep.has_port && ep.port == 443 && ep.addr.family == AF_INET);
	CHECK_EQ_INT(parse_endpoint("203.0.113.7", &ep, err, sizeof(err)), 0);
	CHECK(ep.has_addr && !ep.has_port && ep.prefix_len == 32);
	CHECK_EQ_INT(parse_endpoint("[2001:db8::1]:8443", &ep, err, sizeof(err)), 0);
	CHECK(ep.addr.family == AF_INET6 && ep.port == 8443 && ep.prefix_len == 128);
	CHECK_EQ_INT(parse_endpoint("2001:db8::1", &ep, err, sizeof(err)), 0);
	CHECK(ep.addr.family == AF_INET6 && !ep.has_port);
	CHECK_EQ_INT(parse_endpoint("[2001:db8::1]", &ep, err, sizeof(err)), 0);
	CHECK_EQ_INT(parse_endpoint("203.0.113.0/24:53", &ep, err, sizeof(err)), 0);
	CHECK(ep.prefix_len == 24 && ep.port == 53);
	CHECK_EQ_INT(parse_endpoint(":53", &ep, err, sizeof(err)), 0);
	CHECK(!ep.has_addr && ep.port == 53);
	CHECK_EQ_INT(parse_endpoint("::ffff:192.0.2.1", &ep, err, sizeof(err)), 0);
	CHECK(ep.addr.family == AF_INET); /* as the recorder writes it */
	const char *bad[] = {"300.1.1.1", "[203.0.113.7]:80", "[2001:db8::1]80", "example.com:80",
			     "",	  "10.0.0.0/33"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse_endpoint(bad[i], &ep, err, sizeof(err)), -1);
		CHECK(strstr(err, "is not an address"));
	}
	/* a good address with a bad port: the port is named */
	const char *bad_port[][2] = {
	    {"203.0.113.7:70000", "\"203.0.113.7:70000\": 70000 is out of range for a port"},
	    {"203.0.113.7:", "\"203.0.113.7:\": \"\" is not a port"},
	    {":", "\":\": \"\" is not a port"},
	};
	for (size_t i = 0; i < sizeof(bad_port) / sizeof(bad_port[0]); i++) {
		CHECK_EQ_INT(parse_endpoint(bad_port[i][0], &ep, err, sizeof(err)), -1);
		if (!strstr(err, bad_port[i][1]))
			TEST_FAIL_("%s: %s", bad_port[i][0], err);
	}
}

TEST(query_who_filters)
{
	/* the zeus log has 8 flows */
	CHECK_EQ_INT(who_count(NULL, NULL, NULL, NULL), 8);
	CHECK_EQ_INT(who_count("--dst", "203.0.113.50", NULL, NULL), 3); /* 2 tcp + ping */
	CHECK_EQ_INT(who_count("--dst", "203.0.113.50:443", NULL, NULL), 2);
	CHECK_EQ_INT(who_count("--dst", "203.0.113.0/24", NULL, NULL), 5);
	CHECK_EQ_INT(who_count("--dst", "[2001:db8:1::50]:443", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--dst", "2001:db8:1::50", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--dst", ":53", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--src", "198.51.100.99", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--src", "192.0.2.10:40001", NULL, NULL), 2);
	CHECK_EQ_INT(who_count("--port", "22", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--port", "40003", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--port", "8", NULL, NULL), 0); /* ICMP type is not a port */
	CHECK_EQ_INT(who_count("--proto", "udp", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--proto", "icmp", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--proto", "tcp", NULL, NULL), 6);
	CHECK_EQ_INT(who_count("--community-id", "1:zJPnFUTECGRplP71fgbjTqmxoSY=", NULL, NULL), 2);
	CHECK_EQ_INT(who_count("--since", "2026-11-25T19:10:04Z", NULL, NULL), 6);
	CHECK_EQ_INT(who_count("--until", "2026-11-25T19:10:04Z", NULL, NULL), 3);
	CHECK_EQ_INT(
	    who_count("--since", "2026-11-25T19:10:04Z", "--until", "2026-11-25T19:10:06.000000Z"),
	    4);
	CHECK_EQ_INT(who_count("--since", "-1h", NULL, NULL), 0); /* the log is in 2026 */
	CHECK_EQ_INT(who_count("--pid", "4242", NULL, NULL), 4);  /* two processes */
	CHECK_EQ_INT(who_count("--guid", "6f1c4242-0000-4000-8000-000000004242", NULL, NULL), 1);
	CHECK_EQ_INT(who_count("--pid", "4242", "--dst", "203.0.113.51"), 1);
}

TEST(query_who_bad_values_are_usage_errors)
{
	struct {
		const char *opt, *value, *says;
	} cases[] = {
	    {"--dst", "300.1.1.1", "--dst \"300.1.1.1\" is not an address"},
	    {"--src", "host", "--src \"host\" is not an address"},
	    {"--port", "7x", "--port \"7x\" is not a port: use a number from 0 to 65535"},
	    /* a port out of range is named as such, also after an address */
	    {"--port", "70000", "--port 70000 is out of range for a port (0 to 65535)"},
	    /* found by fuzz_args: six digits with a leading zero were taken as port 20230 */
	    {"--port", "020230", "--port 020230 is out of range for a port (0 to 65535)"},
	    {"--dst", "203.0.113.7:70000",
	     "--dst \"203.0.113.7:70000\": 70000 is out of range for a port (0 to 65535)"},
	    {"--dst", "[2001:db8::1]:65536",
	     "--dst \"[2001:db8::1]:65536\": 65536 is out of range for a port (0 to 65535)"},
	    {"--src", ":99999999999999999999999",
	     "--src \":99999999999999999999999\": 99999999999999999999999 is out of range"},
	    {"--dst", "203.0.113.7:http", "--dst \"203.0.113.7:http\": \"http\" is not a port"},
	    {"--proto", "sctp", "--proto \"sctp\" is not a protocol: use tcp, udp, icmp"},
	    {"--since", "yesterday", "--since \"yesterday\" is not a time"},
	    {"--until", "2026-11-25T99:00:00Z", "--until \"2026-11-25T99:00:00Z\" is not a time"},
	    {"--pid", "abc", "--pid \"abc\" is not a process id"},
	    {"--community-id", "xyz", "--community-id \"xyz\" is not a Community ID"},
	    {"--frobnicate", NULL, "unknown option '--frobnicate'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *err;
		const char *argv[] = {"who",	    "--log-dir",    tq_fixture("zeus"),
				      cases[i].opt, cases[i].value, NULL};
		CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 2);
		if (!strstr(err, cases[i].says))
			fprintf(stderr, "  stderr was: %s", err);
		CHECK(strstr(err, cases[i].says));
		CHECK(strstr(err, "try 'onmitsu who --help'"));
		CHECK_EQ_STR(out, "");
		free(out);
		free(err);
	}
	char *out, *err;
	const char *argv[] = {"who", "--log-dir", tq_fixture("zeus"), "--dst", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 2);
	CHECK(strstr(err, "option '--dst' needs a value"));
	free(out);
	free(err);
	const char *argv2[] = {"who", "--since", "2026-11-26", "--until", "2026-11-25", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv2, &out, &err), 2);
	CHECK(strstr(err, "--since is after --until"));
	free(out);
	free(err);
}

TEST(query_who_json_shape)
{
	char *out, *err;
	CHECK_EQ_INT(
	    who_json("--dst", "203.0.113.50:443", "--until", "2026-11-25T19:11:00Z", &out, &err),
	    0);
	CHECK_EQ_STR(
	    out,
	    "{\"flow\":{\"proto\":\"tcp\",\"src_ip\":\"192.0.2.10\",\"src_port\":40001,"
	    "\"dst_ip\":\"203.0.113.50\",\"dst_port\":443,"
	    "\"community_id\":\"1:zJPnFUTECGRplP71fgbjTqmxoSY=\","
	    "\"time\":\"2026-11-25T19:10:03.000000Z\",\"dns_name\":null,\"dns_name_from\":null},"
	    "\"process\":{\"pid\":4242,\"guid\":\"6f1c1092-0000-4000-8000-000000001092\","
	    "\"exe\":\"/tmp/.cache/svch0st\","
	    "\"cmdline\":\"/tmp/.cache/svch0st -c \\\"a b\\\\x0a\\\"\","
	    "\"sha256\":null,\"cgroup\":null,\"container_id\":null,\"uid\":1000},"
	    "\"ancestry\":["
	    "{\"pid\":4241,\"guid\":\"6f1c1091-0000-4000-8000-000000001091\","
	    "\"exe\":\"/tmp/.cache/svch0st\",\"cmdline\":\"/tmp/.cache/svch0st -s\"},"
	    "{\"pid\":4240,\"guid\":\"6f1c1090-0000-4000-8000-000000001090\","
	    "\"exe\":\"/home/alice/Desktop/invoice.pdf.exe\",\"cmdline\":\"./invoice.pdf.exe\"},"
	    "{\"pid\":812,\"guid\":\"6f1c032c-0000-4000-8000-00000000032c\","
	    "\"exe\":\"/usr/bin/bash\",\"cmdline\":\"-bash\"},"
	    "{\"pid\":1,\"guid\":\"6f1c0001-0000-4000-8000-000000000001\","
	    "\"exe\":\"/usr/lib/systemd/systemd\",\"cmdline\":\"/sbin/init splash\"}]}\n");
	CHECK_EQ_STR(err, "");
	free(out);
	free(err);
}

TEST(query_who_port_reuse_names_each_process)
{
	/* the same 5-tuple, two minutes apart, two processes with the same pid */
	char *out, *err;
	CHECK_EQ_INT(who_json("--src", "192.0.2.10:40001", NULL, NULL, &out, &err), 0);
	char *second = strchr(out, '\n');
	CHECK(second);
	*second++ = '\0';
	CHECK(strstr(out, "\"exe\":\"/tmp/.cache/svch0st\""));
	CHECK(strstr(second, "\"exe\":\"/usr/bin/curl\""));
	CHECK(strstr(second, "\"ancestry\":[{\"pid\":812,"));
	free(out);
	free(err);
}

TEST(query_who_owner_unknown)
{
	/* a socket opened before the recorder started: no pid, no guid */
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv",
		     HEADER "2026-11-25T10:00:00.000000Z,1,NET,,,,,,,,tcp,192.0.2.10,40100,"
			    "203.0.113.9,443,out,established,,,owner=unknown\n");
	char *out, *err;
	const char *argv[] = {"who", "--json", "-d", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 0);
	CHECK(strstr(out, "\"process\":null,\"ancestry\":[]}\n"));
	free(out);
	free(err);
	const char *table[] = {"who", "-d", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_who, table, &out, &err), 0);
	CHECK(strstr(out, "(owner unknown)"));
	CHECK(strstr(out, "opened before the recorder started"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_who_table_and_csv)
{
	char *out, *err;
	const char *argv[] = {"who", "-d", tq_fixture("zeus"), "--proto", "udp", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 0);
	CHECK(strncmp(out, "TIME                         PROTO  SOURCE", 42) == 0);
	CHECK(strstr(out, "2026-11-25T19:10:04.500000Z  udp    192.0.2.10:40004  203.0.113.53:53"));
	CHECK(strstr(out, "    ancestry\n      \\_ 4241 /tmp/.cache/svch0st"));
	CHECK(strstr(out, "\n         \\_ 4240 /home/alice/Desktop/invoice.pdf.exe"));
	CHECK(strstr(out, "exited 2026-11-25T19:11:00.000000Z (signal:KILL)"));
	free(out);
	free(err);
	const char *argv2[] = {"who", "-d", tq_fixture("zeus"), "--proto", "udp", "--csv", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv2, &out, &err), 0);
	CHECK(strncmp(out, "time,proto,src_ip,src_port,dst_ip,dst_port,direction,result,", 60) ==
	      0);
	CHECK(strstr(out, ",\"/tmp/.cache/svch0st -c \"\"a b\\x0a\"\"\","));
	CHECK(strstr(out, ",4241 < 4240 < 812 < 1,"));
	CHECK_EQ_INT(tq_count_lines(out), 2);
	free(out);
	free(err);
}

TEST(query_json_escaping)
{
	struct strbuf sb = STRBUF_INIT;
	json_str(&sb, "a\"b\\c\x01\x1f\x7f/\xc3\xa9\xe2\x82\xac\xff\xc3");
	CHECK_EQ_STR(sb_str(&sb),
		     "\"a\\\"b\\\\c\\\\x01\\\\x1f\\\\x7f/\xc3\xa9\xe2\x82\xac\\\\xff\\\\xc3\"");
	sb_reset(&sb);
	json_str(&sb, "/tmp/x\\x0a");
	CHECK_EQ_STR(sb_str(&sb), "\"/tmp/x\\\\x0a\"");
	sb_reset(&sb);
	json_str_or_null(&sb, "");
	json_int_or_null(&sb, -1);
	CHECK_EQ_STR(sb_str(&sb), "nullnull");
	sb_free(&sb);
}

/* ---- tree and timeline ---- */

TEST(query_tree_family)
{
	char *out, *err;
	const char *argv[] = {"tree", "-d", tq_fixture("zeus"), "--pid", "4241", "--json", NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, argv, &out, &err), 0);
	CHECK_EQ_INT(tq_count_lines(out), 5);
	CHECK(strncmp(out, "{\"depth\":0,\"role\":\"ancestor\",\"pid\":1,", 37) == 0);
	CHECK(strstr(out, "{\"depth\":3,\"role\":\"target\",\"pid\":4241,"));
	CHECK(strstr(out, "{\"depth\":4,\"role\":\"descendant\",\"pid\":4242,"));
	CHECK(strstr(out, "\"modules\":[{\"time\":\"2026-11-25T19:10:02.002000Z\","
			  "\"path\":\"/usr/lib/x86_64-linux-gnu/libssl.so.3\"}]"));
	CHECK(strstr(out, "\"dst_ip\":\"203.0.113.51\",\"dst_port\":8080,\"direction\":\"out\","
			  "\"result\":\"refused\""));
	free(out);
	free(err);
	const char *table[] = {"tree", "-d", tq_fixture("zeus"), "--pid", "4241", NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, table, &out, &err), 0);
	CHECK(strstr(out, "         \\_ * 4241 /tmp/.cache/svch0st"));
	CHECK(strstr(out, "               net     2026-11-25T19:10:03.000000Z  tcp "
			  "192.0.2.10:40001 -> 203.0.113.50:443 out established\n"));
	free(out);
	free(err);
}

TEST(query_tree_pid_reuse_needs_a_choice)
{
	char *out, *err;
	const char *argv[] = {"tree", "-d", tq_fixture("zeus"), "--pid", "4242", NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, argv, &out, &err), 2);
	CHECK(strstr(err, "pid 4242 was used by 2 processes"));
	free(out);
	free(err);
	const char *at[] = {"tree", "-d",   tq_fixture("zeus"),	      "--pid",
			    "4242", "--at", "2026-11-25T19:12:00.5Z", "--csv",
			    NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, at, &out, &err), 0);
	CHECK(strstr(out, "2,target,process,2026-11-25T19:12:00.000000Z,4242,812,"
			  "6f1c4242-0000-4000-8000-000000004242,"));
	CHECK(strstr(out, ",/usr/bin/curl,curl -s https://203.0.113.50/,exit:0,"));
	CHECK(!strstr(out, "svch0st"));
	free(out);
	free(err);
	const char *none[] = {"tree", "-d", tq_fixture("zeus"), "--pid", "31337", NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, none, &out, &err), 1);
	CHECK(strstr(err, "no process with pid 31337"));
	free(out);
	free(err);
	const char *both[] = {"tree", "-d", tq_fixture("zeus"), NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, both, &out, &err), 2);
	CHECK(strstr(err, "--pid P, --guid G or --all"));
	free(out);
	free(err);
}

TEST(query_tree_all_in_window)
{
	char *out, *err;
	const char *argv[] = {"tree",	"-d",		tq_fixture("zeus"),
			      "--all",	"--since",	"2026-11-25T19:11:30Z",
			      "--json", "--no-modules", NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, argv, &out, &err), 0);
	/* still running then: init, sshd, bash, firefox; and curl, started then */
	CHECK_EQ_INT(tq_count_lines(out), 5);
	CHECK(strstr(out, "{\"depth\":2,\"role\":\"member\",\"pid\":4242,"));
	CHECK(!strstr(out, "svch0st"));
	free(out);
	free(err);
}

TEST(query_timeline_family_in_order)
{
	char *out, *err;
	const char *argv[] = {"timeline",
			      "-d",
			      tq_fixture("zeus"),
			      "--guid",
			      "6f1c1090-0000-4000-8000-000000001090",
			      "--descendants",
			      "--csv",
			      NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, argv, &out, &err), 0);
	/* the dropper's family: records 6-16, 18, 19, 26, as written */
	CHECK_EQ_INT(tq_count_lines(out), 1 + 14);
	CHECK(strncmp(out, HEADER, strlen(HEADER)) == 0);
	CHECK(strstr(out, "\n2026-11-25T19:10:00.000000Z,6,FORK,4240,"));
	CHECK(strstr(out, ",\"/tmp/.cache/svch0st -c \"\"a b\\x0a\"\"\",,,,,,,,,,deleted=1\n"));
	CHECK(strstr(out, "\n2026-11-25T19:11:00.000000Z,26,EXIT,4242,"));
	CHECK(!strstr(out, "firefox"));
	free(out);
	free(err);
	const char *one[] = {"timeline", "-d", tq_fixture("zeus"), "--pid", "4240", "--json", NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, one, &out, &err), 0);
	CHECK_EQ_INT(tq_count_lines(out), 4);
	CHECK(strstr(out, "{\"time\":\"2026-11-25T19:10:01.500000Z\",\"seq\":11,\"event\":\"EXIT\","
			  "\"pid\":4240,\"ppid\":812,"));
	free(out);
	free(err);
}

TEST(query_timeline_window)
{
	char *out, *err;
	const char *argv[] = {
	    "timeline", "-d", tq_fixture("zeus"), "--since", "2026-11-25T19:12:00Z", NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, argv, &out, &err), 0);
	CHECK_EQ_INT(tq_count_lines(out), 5);
	CHECK(strstr(out, "2026-11-25T19:12:00.100000Z  NET          4242  /usr/bin/curl  tcp "
			  "192.0.2.10:40001 -> 203.0.113.50:443 out established\n"));
	CHECK(strstr(out, "  STOP            -  events=31 lost=0\n"));
	free(out);
	free(err);
	const char *bad[] = {"timeline", "-d", tq_fixture("zeus"), "--descendants", NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, bad, &out, &err), 2);
	free(out);
	free(err);
}

TEST(query_help_fits_a_screen)
{
	int (*cmds[])(int, char **) = {cmd_cat, cmd_who, cmd_tree, cmd_timeline, cmd_correlate};
	const char *names[] = {"cat", "who", "tree", "timeline", "correlate"};
	for (int i = 0; i < 5; i++) {
		char *out, *err;
		const char *argv[] = {names[i], "--help", NULL};
		CHECK_EQ_INT(tq_run(cmds[i], argv, &out, &err), 0);
		CHECK(strncmp(out, "usage: onmitsu ", 15) == 0);
		CHECK(tq_count_lines(out) <= 24);
		for (char *line = out; *line;) {
			char *nl = strchr(line, '\n');
			CHECK(nl && nl - line <= 100);
			line = nl + 1;
		}
		free(out);
		free(err);
	}
}

/* ---- JSON Lines logs read as their CSV ---- */

/* The zeus fixture converted to JSON Lines by the log's own converter
 * (`cat --format jsonl`), as DIR/onmitsu.jsonl; NULL on failure. */
static char *zeus_as_jsonl(void)
{
	char *dir = tq_tempdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/onmitsu.jsonl", dir);
	FILE *f = fopen(path, "w");
	int rc = f ? log_cat(tq_fixture("zeus"), LOG_FORMAT_JSONL, f) : 1;
	if (f && fclose(f) != 0)
		rc = 1;
	if (rc != 0) {
		tq_rmdir(dir);
		return NULL;
	}
	return dir;
}

/* Run a command on the CSV fixture and on dir; both must give the same bytes
 * and exit status. argv[2] is the log directory, replaced for the second. */
static bool same_on_both(int (*fn)(int, char **), const char **argv, const char *dir, int *rc_out)
{
	char *out1, *err1, *out2, *err2;
	argv[2] = tq_fixture("zeus");
	int rc1 = tq_run(fn, argv, &out1, &err1);
	argv[2] = dir;
	int rc2 = tq_run(fn, argv, &out2, &err2);
	bool same = rc1 == rc2 && out1 && out2 && err1 && err2 && strcmp(out1, out2) == 0 &&
		    strcmp(err1, err2) == 0 && *out1;
	if (!same)
		fprintf(stderr, "  %s on %s differs:\n--- CSV (%d)\n%s%s--- JSON Lines (%d)\n%s%s",
			argv[0], dir, rc1, out1 ? out1 : "", err1 ? err1 : "", rc2,
			out2 ? out2 : "", err2 ? err2 : "");
	*rc_out = rc1;
	free(out1);
	free(err1);
	free(out2);
	free(err2);
	return same;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One raw IPv4 packet (DLT_RAW): TCP with flags, UDP, or ICMP (sp = type) */
static void dump_packet(pcap_dumper_t *d, const char *when, const char *src, const char *dst,
			uint8_t proto, uint16_t sp, uint16_t dp, uint8_t flags)
{
	uint8_t b[64] = {0};
	b[0] = 0x45;
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	uint8_t *t = b + 20;
	size_t tl = 8;
	if (proto == IPPROTO_ICMP) {
		t[0] = (uint8_t)sp;
		put_be16(t + 4, 77);
	} else {
		put_be16(t, sp);
		put_be16(t + 2, dp);
		if (proto == IPPROTO_TCP) {
			t[12] = 5 << 4;
			t[13] = flags;
			tl = 20;
		} else {
			put_be16(t + 4, 8);
		}
	}
	put_be16(b + 2, (uint16_t)(20 + tl));
	uint64_t ns = t_of(when);
	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)(20 + tl), .len = (bpf_u_int32)(20 + tl)};
	h.ts.tv_sec = (time_t)(ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
	pcap_dump((u_char *)d, &h, b);
}

/* A capture of the zeus host's flows (as tests/unit/test_pcap.c writes one) */
static bool write_capture(const char *path)
{
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, path) : NULL;
	if (!d) {
		if (dead)
			pcap_close(dead);
		return false;
	}
	const uint8_t tcp = IPPROTO_TCP, udp = IPPROTO_UDP, icmp = IPPROTO_ICMP;
	dump_packet(d, "2026-11-25T19:10:03.002000Z", "192.0.2.10", "203.0.113.50", tcp, 40001, 443,
		    0x02);
	dump_packet(d, "2026-11-25T19:10:03.030000Z", "203.0.113.50", "192.0.2.10", tcp, 443, 40001,
		    0x12);
	dump_packet(d, "2026-11-25T19:10:03.100500Z", "192.0.2.10", "198.51.100.20", tcp, 40002,
		    443, 0x02);
	dump_packet(d, "2026-11-25T19:10:04.500200Z", "192.0.2.10", "203.0.113.53", udp, 40004, 53,
		    0);
	dump_packet(d, "2026-11-25T19:10:05.000100Z", "198.51.100.99", "192.0.2.10", tcp, 51000, 22,
		    0x02);
	dump_packet(d, "2026-11-25T19:10:07.100100Z", "192.0.2.10", "203.0.113.50", icmp, 8, 0, 0);
	dump_packet(d, "2026-11-25T19:10:11.000000Z", "198.51.100.1", "198.51.100.2", tcp, 1234, 80,
		    0x02);
	dump_packet(d, "2026-11-25T19:12:00.150000Z", "192.0.2.10", "203.0.113.50", tcp, 40001, 443,
		    0x02);
	pcap_dump_close(d);
	pcap_close(dead);
	return true;
}

TEST(query_jsonl_log_reads_as_its_csv)
{
	char *dir = zeus_as_jsonl();
	CHECK(dir);
	int rc;
	/* argv[2]: the log directory, filled in by same_on_both */
	const char *who[] = {"who", "-d", NULL, "--json", NULL};
	CHECK(same_on_both(cmd_who, who, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	const char *who_dst[] = {"who", "-d", NULL, "--json", "--dst", "203.0.113.50:443", NULL};
	CHECK(same_on_both(cmd_who, who_dst, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	const char *who_table[] = {"who", "-d", NULL, "--dst", "203.0.113.50", NULL};
	CHECK(same_on_both(cmd_who, who_table, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	const char *tree[] = {"tree", "-d", NULL, "--pid", "4241", "--json", NULL};
	CHECK(same_on_both(cmd_tree, tree, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	const char *tree_all[] = {"tree", "-d", NULL, "--all", "--json", NULL};
	CHECK(same_on_both(cmd_tree, tree_all, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	const char *tree_table[] = {"tree", "-d", NULL, "--pid", "4241", NULL};
	CHECK(same_on_both(cmd_tree, tree_table, dir, &rc));
	const char *timeline[] = {"timeline", "-d", NULL, "--json", NULL};
	CHECK(same_on_both(cmd_timeline, timeline, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	const char *family[] = {
	    "timeline",	     "-d",     NULL, "--guid", "6f1c1090-0000-4000-8000-000000001090",
	    "--descendants", "--json", NULL};
	CHECK(same_on_both(cmd_timeline, family, dir, &rc));
	const char *timeline_table[] = {"timeline", "-d", NULL, NULL};
	CHECK(same_on_both(cmd_timeline, timeline_table, dir, &rc));

	char cap[600];
	snprintf(cap, sizeof(cap), "%s/zeus.pcap", dir);
	CHECK(write_capture(cap));
	const char *corr[] = {"correlate", "-d", NULL, cap, NULL};
	const char *corr_json[] = {"correlate", "-d", NULL, "--json", cap, NULL};
	CHECK(same_on_both(cmd_correlate, corr_json, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	CHECK(same_on_both(cmd_correlate, corr, dir, &rc));
	CHECK_EQ_INT(rc, 0);
	char *out, *err;
	corr_json[2] = dir;
	CHECK_EQ_INT(tq_run(cmd_correlate, corr_json, &out, &err), 0);
	CHECK(strstr(out, "svch0st")); /* the C&C flow was attributed */
	CHECK_EQ_STR(err, "flows seen 7, attributed 6, unattributed 1\n");
	free(out);
	free(err);

	/* timeline --csv writes the records as `cat --format csv` converts them */
	const char *csv[] = {"timeline", "-d", dir, "--csv", NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, csv, &out, &err), 0);
	char cat_path[600];
	snprintf(cat_path, sizeof(cat_path), "%s/cat.csv", dir);
	FILE *f = fopen(cat_path, "w");
	CHECK(f);
	CHECK_EQ_INT(log_cat(dir, LOG_FORMAT_CSV, f), 0);
	fclose(f);
	char *want = tq_read_file(cat_path);
	CHECK_EQ_STR(out, want);
	CHECK_EQ_STR(err, "");
	free(want);
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_jsonl_bad_lines_reported_and_skipped)
{
	char *conv = zeus_as_jsonl();
	CHECK(conv);
	char path[600];
	snprintf(path, sizeof(path), "%s/onmitsu.jsonl", conv);
	char *text = tq_read_file(path);
	tq_rmdir(conv);
	CHECK(text);
	/* its first 10 records in a closed, compressed segment; the rest in the
	 * active one after five lines that are no records */
	char *cut = text;
	for (int i = 0; i < 10 && cut; i++) {
		cut = strchr(cut, '\n');
		if (cut)
			cut++;
	}
	CHECK(cut);
	char *rest = strdup(cut);
	*cut = '\0';
	char *dir = tq_tempdir();
	tq_write_zst(dir, "onmitsu-20261125T190000.000000Z-000000000001.jsonl.zst", text, 0);
	struct strbuf active = STRBUF_INIT;
	sb_adds(&active,
		"{\"@timestamp\":\"2026-11-25T19:10:00.000000Z\",\"event.seq\n"
		"{}\n"
		"{\"@timestamp\":\"2026-11-25T19:10:00.000000Z\",\"event.sequence\":[1]}\n"
		"{\"@timestamp\":\"yesterday\",\"event.sequence\":9,\"event.action\":\"EXIT\"}\n"
		"{\"@timestamp\":\"2026-11-25T19:10:00.000000Z\",\"event.sequence\":9,"
		"\"event.action\":\"EXIT\",\"onmitsu.detail\":\"a\\nb\"}\n");
	sb_adds(&active, rest);
	tq_write_str(dir, "onmitsu.jsonl", active.data);
	sb_free(&active);
	free(rest);
	free(text);

	char *out, *err, *want, *want_err;
	const char *csv[] = {"who", "--json", "-d", tq_fixture("zeus"), NULL};
	CHECK_EQ_INT(tq_run(cmd_who, csv, &want, &want_err), 0);
	const char *who[] = {"who", "--json", "-d", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_who, who, &out, &err), 0);
	CHECK_EQ_STR(out, want);
	CHECK(strstr(err, "onmitsu.jsonl:1: not an onmitsu JSON Lines record"));
	CHECK(strstr(err, "onmitsu.jsonl:2: not an onmitsu JSON Lines record"));
	CHECK(strstr(err, "onmitsu.jsonl:3: not an onmitsu JSON Lines record"));
	CHECK(strstr(err, "onmitsu.jsonl:4: bad time \"yesterday\""));
	CHECK(strstr(err, "onmitsu.jsonl:5: a line break in a value; record skipped"));
	CHECK(!strstr(err, ".zst:"));
	free(out);
	free(err);
	free(want);
	free(want_err);
	const char *tl[] = {"timeline", "--json", "-d", dir, NULL};
	const char *tl_csv[] = {"timeline", "--json", "-d", tq_fixture("zeus"), NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, tl_csv, &want, &want_err), 0);
	CHECK_EQ_INT(tq_run(cmd_timeline, tl, &out, &err), 0);
	CHECK_EQ_STR(out, want);
	free(out);
	free(err);
	free(want);
	free(want_err);
	/* every record read once, the bad ones counted */
	struct log_reader_opts opts = {.single_thread = true, .quiet = true};
	char e[256];
	struct log_reader *r = log_reader_open(dir, &opts, e, sizeof(e));
	CHECK(r);
	struct log_record rec;
	while (log_reader_next(r, &rec) > 0)
		;
	CHECK_EQ_INT(log_reader_records(r), 31);
	CHECK_EQ_INT(log_reader_bad_lines(r), 5);
	CHECK(!log_reader_failed(r));
	log_reader_close(r);
	tq_rmdir(dir);
}

TEST(query_jsonl_segments_in_order)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.jsonl", "");
	tq_write_str(dir, "onmitsu-20261125T110000.000000Z-000000000011.jsonl", "");
	tq_write_zst(dir, "onmitsu-20261125T100000.000000Z-000000000010.jsonl.zst", "", 0);
	tq_write_str(dir, "onmitsu-20261125T120000.000000Z-000000000012.jsonl", "");
	tq_write_zst(dir, "onmitsu-20261125T120000.000000Z-000000000012.jsonl.zst", "", 0);
	tq_write_str(dir, "onmitsu-20261125T130000.000000Z-000000000013.jsonl.zst.tmp", "x");
	char **paths;
	CHECK_EQ_INT(log_segments(dir, &paths), 4);
	const char *want[] = {"onmitsu-20261125T100000.000000Z-000000000010.jsonl.zst",
			      "onmitsu-20261125T110000.000000Z-000000000011.jsonl",
			      "onmitsu-20261125T120000.000000Z-000000000012.jsonl",
			      "onmitsu.jsonl"};
	for (int i = 0; i < 4; i++)
		CHECK_EQ_STR(strrchr(paths[i], '/') + 1, want[i]);
	log_segments_free(paths);
	/* one format per directory: with a CSV log there, it is the CSV one */
	tq_write_str(dir, "onmitsu.csv", HEADER);
	CHECK_EQ_INT(log_segments(dir, &paths), 1);
	CHECK_EQ_STR(strrchr(paths[0], '/') + 1, "onmitsu.csv");
	log_segments_free(paths);
	tq_rmdir(dir);
}

/*
 * A query next to a live recorder: a segment listed by readdir can be gone
 * (compressed, expired) before it is stat'ed. It is skipped; the listing
 * does not fail. A dangling symlink named like a segment is no segment
 * either: it is named in a warning and left out, and the rest is read.
 */
TEST(query_listing_skips_a_segment_that_vanished)
{
	char *dir = tq_tempdir();
	char src[600];
	snprintf(src, sizeof(src), "%s/onmitsu.csv", tq_fixture("zeus"));
	char *log = tq_read_file(src);
	CHECK(log != NULL);
	tq_write_str(dir, "onmitsu.csv", log);
	char link[600];
	snprintf(link, sizeof(link), "%s/onmitsu-20261125T000000.000000Z-000000000001.csv", dir);
	CHECK(symlink("/nonexistent/onmitsu-gone.csv", link) == 0);
	char *out, *err;
	const char *argv[] = {"cat", "--log-dir", dir, NULL};
	CHECK_EQ_INT(tq_run(cmd_cat, argv, &out, &err), 0);
	CHECK_EQ_STR(out, log);
	CHECK(strstr(err, "-000000000001.csv is not part of the log: a symbolic link") != NULL);
	free(out);
	free(err);
	free(log);
	tq_rmdir(dir);
}
