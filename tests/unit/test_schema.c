/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The record schema and the one record line parser (log/schema.h): the
 * table, the parser's answers on good and bad lines, and every reader of a
 * log (the query reader, verify, cat's converter, the forwarder, the
 * writer's recovery) on a log with a column this version does not know.
 */
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/commands.h"
#include "log/forward.h"
#include "log/schema.h"
#include "log/writer.h"
#include "query/commands.h"
#include "test.h"

int tq_run(int (*fn)(int, char **), const char *const *argv, char **out, char **err);
char *tq_tempdir(void);
void tq_write(const char *dir, const char *name, const void *data, size_t len);
void tq_write_str(const char *dir, const char *name, const char *text);
void tq_rmdir(char *dir);

TEST(schema_table_is_consistent)
{
	CHECK_EQ_INT(COL_COUNT, 28);
	for (int c = 0; c < COL_COUNT; c++) {
		CHECK(log_columns[c].name && *log_columns[c].name);
		CHECK(log_columns[c].json_key && *log_columns[c].json_key);
		CHECK_EQ_STR(log_col_names[c], log_columns[c].name);
		for (int d = 0; d < c; d++) {
			CHECK(strcmp(log_columns[c].name, log_columns[d].name) != 0);
			CHECK(strcmp(log_columns[c].json_key, log_columns[d].json_key) != 0);
		}
		CHECK(strcmp(log_columns[c].name, CHAIN_COLUMN) != 0);
	}
	CHECK_EQ_STR(log_columns[COL_TIME].name, "time");
	CHECK_EQ_STR(log_columns[COL_DETAIL].name, "detail");
	CHECK_EQ_INT(log_columns[COL_SEQ].kind, COL_KIND_NUMBER);
	CHECK_EQ_INT(log_columns[COL_UID].kind, COL_KIND_NUMBER_TEXT);
}

TEST(schema_parse_u64_bounds)
{
	uint64_t v = 7;
	CHECK(log_parse_u64("0", 1, &v) && v == 0);
	CHECK(log_parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
	v = 7;
	CHECK(!log_parse_u64("18446744073709551616", 20, &v)); /* 2^64 */
	CHECK(!log_parse_u64("99999999999999999999", 20, &v));
	CHECK(!log_parse_u64("184467440737095516150", 21, &v));
	CHECK(!log_parse_u64("", 0, &v));
	CHECK(!log_parse_u64("-1", 2, &v));
	CHECK(!log_parse_u64("+1", 2, &v));
	CHECK(!log_parse_u64(" 1", 2, &v));
	CHECK(!log_parse_u64("1x", 2, &v));
	CHECK_EQ_INT(v, 7);
}

TEST(schema_line_by_header_name)
{
	/* columns in another order, an unknown one, chain last */
	static const char header[] = "seq,extra,event,time,detail,chain";
	struct log_layout l;
	CHECK(log_layout_from_header(&l, header, strlen(header)));
	CHECK_EQ_INT(l.nfields, 6);
	CHECK_EQ_INT(l.idx[COL_SEQ], 0);
	CHECK_EQ_INT(l.idx[COL_TIME], 3);
	CHECK_EQ_INT(l.idx[COL_PID], -1);
	CHECK_EQ_INT(l.chain, 5);

	struct log_line_parser p = {0};
	struct log_line ln;
	static const char line[] =
	    "42,\"x,y\",EXEC,2026-11-25T19:13:17.123456Z,a=1,0123456789abcdef";
	CHECK_EQ_INT(log_line_parse(&p, LOG_FORMAT_CSV, &l, line, strlen(line), &ln), LOG_LINE_OK);
	CHECK_EQ_STR(ln.f[COL_EVENT], "EXEC");
	CHECK_EQ_STR(ln.f[COL_DETAIL], "a=1");
	CHECK_EQ_STR(ln.f[COL_PID], "");
	CHECK_EQ_INT(ln.len[COL_TIME], 27);
	CHECK_EQ_STR(ln.chain, "0123456789abcdef");
	CHECK_EQ_STR(ln.fields[1], "x,y");
	uint64_t seq;
	CHECK(log_line_seq(&ln, &seq) && seq == 42);

	static const char few[] = "42,x,EXEC";
	CHECK_EQ_INT(log_line_parse(&p, LOG_FORMAT_CSV, &l, few, strlen(few), &ln),
		     LOG_LINE_FIELDS);
	CHECK_EQ_INT(ln.nfields, 3);
	static const char quoting[] = "42,\"x,EXEC,t,d,c";
	CHECK_EQ_INT(log_line_parse(&p, LOG_FORMAT_CSV, &l, quoting, strlen(quoting), &ln),
		     LOG_LINE_QUOTING);
	static const char nul[] = "42,x\0y,EXEC,t,d,c";
	CHECK_EQ_INT(log_line_parse(&p, LOG_FORMAT_CSV, &l, nul, sizeof(nul) - 1, &ln),
		     LOG_LINE_NUL);
	static const char json[] = "{\"event.sequence\":9,\"event.action\":\"STOP\","
				   "\"onmitsu.chain\":\"0123456789abcdef\"}";
	CHECK_EQ_INT(log_line_parse(&p, LOG_FORMAT_JSONL, NULL, json, strlen(json), &ln),
		     LOG_LINE_OK);
	CHECK(log_line_seq(&ln, &seq) && seq == 9);
	CHECK_EQ_STR(ln.f[COL_EVENT], "STOP");
	CHECK_EQ_STR(ln.chain, "0123456789abcdef");
	CHECK_EQ_INT(log_line_parse(&p, LOG_FORMAT_JSONL, NULL, "[1]", 3, &ln), LOG_LINE_JSON);
	log_line_parser_free(&p);
}

/* ---- a log with a column this version does not know ---- */

#define REC_TIME "2026-11-25T19:00:0"

/*
 * A CSV log of records seq first..first+n-1 (START, EXECs, STOP), written as
 * a newer onmitsu would: an extra column "future" after dns_answers, then chain,
 * with true chain values (full on the first and last record, tags between).
 * bad_seq: when not NULL, a record with this text as its seq goes after the
 * third record.
 */
static void extended_log(struct strbuf *out, bool extra, const char *bad_seq)
{
	char prev[CHAIN_HEX_LEN + 1], next[CHAIN_HEX_LEN + 1];
	memcpy(prev, CHAIN_SEED, sizeof(prev));
	struct strbuf body = STRBUF_INIT;
	log_write_header(out, false);
	out->len--;
	sb_adds(out, extra ? ",future,chain\n" : ",chain\n");
	const int n = 5;
	for (int i = 0; i <= n; i++) {
		sb_reset(&body);
		const char *ev = i == 0 ? "START" : i == n ? "STOP" : "EXEC";
		int seq = i < 3 ? i : i - 1;
		char seq_s[32];
		snprintf(seq_s, sizeof(seq_s), "%d", seq);
		if (i == 3) {
			if (!bad_seq)
				continue;
			snprintf(seq_s, sizeof(seq_s), "%s", bad_seq);
		}
		sb_addf(&body,
			REC_TIME
			"%d.000000Z,%s,%s,%d,1,g%d,,0,/bin/prog%d,prog %d,,,,,,,,,,x=1,,,,,,,,",
			i, seq_s, ev, 100 + i, i, i, i);
		if (extra)
			sb_addf(&body, ",ab%02d", i);
		chain_compute(prev, body.data, body.len, next);
		bool full = i == 0 || i == n;
		sb_add(out, body.data, body.len);
		sb_addc(out, ',');
		sb_add(out, next, full ? CHAIN_HEX_LEN : CHAIN_TAG_LEN);
		sb_addc(out, '\n');
		memcpy(prev, next, sizeof(prev));
	}
	sb_free(&body);
}

static int run(int (*fn)(int, char **), const char *const *argv, char **out, char **err)
{
	return tq_run(fn, argv, out, err);
}

TEST(schema_unknown_column_tolerated_by_every_reader)
{
	char *dir = tq_tempdir();
	struct strbuf log = STRBUF_INIT;
	extended_log(&log, true, NULL);
	tq_write(dir, "onmitsu.csv", log.data, log.len);
	char *out, *err;

	const char *verify[] = {"verify", "-d", dir, NULL};
	int rc = run(cmd_verify, verify, &out, &err);
	if (rc != 0)
		fprintf(stderr, "  verify: %s%s", out, err);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "intact: 1 segment, 5 records"));
	free(out);
	free(err);

	/* the query reader: by name, the extra column carried in cat */
	const char *cat[] = {"cat", "-d", dir, NULL};
	CHECK_EQ_INT(run(cmd_cat, cat, &out, &err), 0);
	CHECK_EQ_STR(out, log.data);
	CHECK_EQ_STR(err, "");
	free(out);
	free(err);
	const char *tl[] = {"timeline", "-d", dir, "--pid", "102", "--json", NULL};
	CHECK_EQ_INT(run(cmd_timeline, tl, &out, &err), 0);
	CHECK(strstr(out, "\"exe\":\"/bin/prog2\""));
	CHECK_EQ_STR(err, "");
	free(out);
	free(err);

	/* the converter: every record, known columns by name */
	const char *conv[] = {"cat", "-d", dir, "--format", "jsonl", NULL};
	CHECK_EQ_INT(run(cmd_cat, conv, &out, &err), 0);
	CHECK_EQ_STR(err, "");
	int lines = 0;
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_EQ_INT(lines, 5);
	CHECK(strstr(out, "\"executable\":\"/bin/prog4\""));
	free(out);
	free(err);

	/* the writer's recovery reads the last record of such a segment */
	struct log_layout l;
	const char *nl = strchr(log.data, '\n');
	CHECK(log_layout_from_header(&l, log.data, (size_t)(nl - log.data)));
	const char *last = log.data + log.len - 1;
	while (last > log.data && last[-1] != '\n')
		last--;
	struct log_tail t;
	CHECK_EQ_INT(
	    log_line_tail(last, (size_t)(log.data + log.len - 1 - last), LOG_FORMAT_CSV, &l, &t),
	    0);
	CHECK_EQ_INT(t.seq, 4);
	CHECK_EQ_STR(t.event, "STOP");
	CHECK(t.chain_full);
	sb_free(&log);
	tq_rmdir(dir);
}

/* ---- the forwarder ---- */

static int listen_loopback(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 1) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return s;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Forward the log in dir to a collector on loopback; what it received, once
 * it holds want or after 5 s. */
static char *forward_and_collect(const char *dir, const char *want)
{
	int port;
	int ls = listen_loopback(&port);
	if (ls < 0)
		return NULL;
	char hp[64];
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", port);
	struct jsonl_host host = {"h", "id", "boot"};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct forwarder *fw =
	    dfd < 0 ? NULL : forwarder_start(dir, dfd, LOG_FORMAT_CSV, hp, &host, 0);
	struct strbuf got = STRBUF_INIT;
	sb_addc(&got, '\0');
	got.len = 0;
	uint64_t deadline = now_ms() + 5000;
	struct pollfd pl = {ls, POLLIN, 0};
	int cs = -1;
	if (fw && poll(&pl, 1, 5000) == 1)
		cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	while (cs >= 0 && !strstr(got.data, want) && now_ms() < deadline) {
		struct pollfd pc = {cs, POLLIN, 0};
		if (poll(&pc, 1, 100) != 1)
			continue;
		char buf[4096];
		ssize_t n = read(cs, buf, sizeof(buf));
		if (n <= 0)
			break;
		sb_add(&got, buf, (size_t)n);
	}
	forwarder_stop(fw, 0);
	if (dfd >= 0)
		close(dfd);
	if (cs >= 0)
		close(cs);
	close(ls);
	char *r = strdup(got.data);
	sb_free(&got);
	return r;
}

/* A seq that does not fit 64 bits is no seq: the record is not sent, and
 * the ones after it still are. (The forwarder's own parser wrapped it, to
 * 1000 here, sent it under that seq and then skipped every record below
 * 1001 as already sent.) */
TEST(forward_seq_overflow_is_refused)
{
	char *dir = tq_tempdir();
	struct strbuf log = STRBUF_INIT;
	extended_log(&log, false, "18446744073709552616"); /* 2^64 + 1000 */
	tq_write(dir, "onmitsu.csv", log.data, log.len);
	char *got = forward_and_collect(dir, "\"event.sequence\":4,");
	CHECK(got);
	for (int seq = 0; seq <= 4; seq++) {
		char want[64];
		snprintf(want, sizeof(want), "\"sequence\":%d}", seq);
		if (!strstr(got, want))
			fprintf(stderr, "  seq %d was not forwarded\n", seq);
		CHECK(strstr(got, want));
	}
	CHECK(!strstr(got, "18446744073709552616"));
	free(got);
	sb_free(&log);
	tq_rmdir(dir);
}

TEST(forward_unknown_column_tolerated)
{
	char *dir = tq_tempdir();
	struct strbuf log = STRBUF_INIT;
	extended_log(&log, true, NULL);
	tq_write(dir, "onmitsu.csv", log.data, log.len);
	char *got = forward_and_collect(dir, "\"event.sequence\":4,");
	CHECK(got);
	for (int seq = 0; seq <= 4; seq++) {
		char want[64];
		snprintf(want, sizeof(want), "\"sequence\":%d}", seq);
		CHECK(strstr(got, want));
	}
	CHECK(strstr(got, "\"executable\":\"/bin/prog2\""));
	free(got);
	sb_free(&log);
	tq_rmdir(dir);
}

/* The forwarder reads the active segment as it grows: a line longer than
 * LOG_LINE_MAX is reported and dropped as it is read, not held whole in
 * memory (it had no limit at all), and the records after it still go. */
TEST(forward_overlong_line_is_bounded)
{
	char *dir = tq_tempdir();
	struct strbuf log = STRBUF_INIT;
	extended_log(&log, false, NULL);
	/* after the third record: a line three times the limit */
	char *third = log.data;
	for (int i = 0; i < 4; i++)
		third = strchr(third, '\n') + 1;
	struct strbuf big = STRBUF_INIT;
	sb_add(&big, log.data, (size_t)(third - log.data));
	for (size_t i = 0; i < 3 * (size_t)LOG_LINE_MAX; i += 64)
		sb_add(&big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		       64);
	sb_addc(&big, '\n');
	sb_adds(&big, third);
	tq_write(dir, "onmitsu.csv", big.data, big.len);

	char errpath[] = "/tmp/onmitsu-test-err-XXXXXX";
	int efd = mkstemp(errpath);
	CHECK(efd >= 0);
	unlink(errpath);
	fflush(stderr);
	int saved = dup(2);
	dup2(efd, 2);
	char *got = forward_and_collect(dir, "\"event.sequence\":4,");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char err[4096] = "";
	ssize_t n = pread(efd, err, sizeof(err) - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(efd);

	CHECK(got);
	for (int seq = 0; seq <= 4; seq++) {
		char want[64];
		snprintf(want, sizeof(want), "\"sequence\":%d}", seq);
		CHECK(strstr(got, want));
	}
	if (!strstr(err, "a line longer than 1048576 bytes is not a record"))
		fprintf(stderr, "  stderr: %s\n", err);
	CHECK(strstr(err, "a line longer than 1048576 bytes is not a record"));
	free(got);
	sb_free(&big);
	sb_free(&log);
	tq_rmdir(dir);
}
