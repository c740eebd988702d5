/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Golden outputs: the bytes the log writer, the converter, verify and the
 * query commands produce, compared with files committed under
 * tests/data/golden/. They were made by the code before the record schema
 * and the record line parser were brought into one module (log/schema.h),
 * so a refactoring that changes one byte of a log or of an answer fails
 * here. A deliberate change of output regenerates them:
 *
 *     ONMITSU_GOLDEN_UPDATE=1 build/unit-tests golden
 *
 * and the diff of tests/data/golden/ is then part of the commit.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/commands.h"
#include "log/record.h"
#include "log/writer.h"
#include "query/commands.h"
#include "test.h"

int tq_run(int (*fn)(int, char **), const char *const *argv, char **out, char **err);
char *tq_tempdir(void);
void tq_write(const char *dir, const char *name, const void *data, size_t len);
void tq_rmdir(char *dir);
char *tq_read_file(const char *path);
const char *tq_fixture(const char *name);

#define T0 1764097997123456789ull /* 2025-11-25T19:13:17.123456789Z */

static bool updating(void)
{
	const char *u = getenv("ONMITSU_GOLDEN_UPDATE");
	return u && strcmp(u, "1") == 0;
}

/* text with every occurrence of dir replaced by "DIR": temporary paths differ per run */
static char *without_dir(const char *text, const char *dir)
{
	size_t dl = strlen(dir), n = strlen(text);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		abort();
	for (const char *p = text; *p;) {
		if (strncmp(p, dir, dl) == 0) {
			memcpy(o, "DIR", 3);
			o += 3;
			p += dl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/*
 * Compare got with tests/data/golden/name (or write it there when updating).
 * Returns NULL when equal, else a message naming the first differing line.
 */
static const char *golden_check(const char *name, const char *got, char *msg, size_t msgsize)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/golden/%s", test_data_dir(), name);
	if (updating()) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/golden", test_data_dir());
		mkdir(dir, 0755);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, got, strlen(got)) != (ssize_t)strlen(got)) {
			snprintf(msg, msgsize, "cannot write %s", path);
			if (fd >= 0)
				close(fd);
			return msg;
		}
		close(fd);
		return NULL;
	}
	char *want = tq_read_file(path);
	if (!want) {
		snprintf(msg, msgsize, "%s is missing", path);
		return msg;
	}
	const char *res = NULL;
	if (strcmp(want, got) != 0) {
		size_t i = 0, line = 1;
		while (want[i] && want[i] == got[i])
			line += want[i++] == '\n';
		size_t ls = i;
		while (ls > 0 && want[ls - 1] != '\n')
			ls--;
		snprintf(msg, msgsize, "%s differs at line %zu:\n    want: %.*s\n    got:  %.*s",
			 path, line, (int)strcspn(want + ls, "\n"), want + ls,
			 (int)strcspn(got + ls, "\n"), got + ls);
		res = msg;
	}
	free(want);
	return res;
}

#define CHECK_GOLDEN(name, got)                                                                    \
	do {                                                                                       \
		char msg_[1024];                                                                   \
		const char *why_ = golden_check((name), (got), msg_, sizeof(msg_));                \
		if (why_)                                                                          \
			TEST_FAIL_("%s", why_);                                                    \
	} while (0)

/* ---- a fixed set of records through the writer ---- */

static void ip4(struct om_ip *ip, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	ip->addr[0] = a;
	ip->addr[1] = b;
	ip->addr[2] = c;
	ip->addr[3] = d;
}

static void ip6(struct om_ip *ip, const uint8_t addr[16])
{
	ip->family = AF_INET6;
	memcpy(ip->addr, addr, 16);
}

/* Every event kind and the hard cases of the encoders: escapes, quoting,
 * empty and missing fields, IPv4, IPv6 and IPv4-mapped IPv6. */
static void append_fixed_records(struct log_writer *w, uint64_t t)
{
	struct om_record r;
	static const char cmd1[] = "printf\0a b\n\0\0say \"hi\", x\0\xff\xfe\0";
	static const char exe_odd[] = "/tmp/dir,with\"quote/\x1b[31mred\xc3\xa9\xe2\x80\xae";
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				       0,    0,	   0,	 0,    0, 0, 0, 0x53};
	static const uint8_t v4m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};

	om_record_init(&r, OM_EVENT_START);
	r.time_ns = t;
	r.pid = 321;
	r.detail = "version=0.1.0 hooks=process,net,module host=web1 machine_id=0f0e "
		   "boot_id=1111";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_EXISTING);
	r.time_ns = t += 1000;
	r.pid = 1;
	r.ppid = 0;
	r.uid = 0;
	r.guid = "6f1c0001-0000-4000-8000-000000000001";
	r.exe = "/usr/lib/systemd/systemd";
	r.exe_len = strlen(r.exe);
	r.args = "/sbin/init\0splash\0";
	r.args_len = 18;
	r.has_cmdline = true;
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_FORK);
	r.time_ns = t += 999;
	r.pid = 4242;
	r.ppid = 1;
	r.uid = 1000;
	r.guid = "6f1c1092-0000-4000-8000-000000001092";
	r.parent_guid = "6f1c0001-0000-4000-8000-000000000001";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_EXEC);
	r.time_ns = t += 1000000;
	r.pid = 4242;
	r.ppid = 1;
	r.uid = 1000;
	r.guid = "6f1c1092-0000-4000-8000-000000001092";
	r.parent_guid = "6f1c0001-0000-4000-8000-000000000001";
	r.exe = exe_odd;
	r.exe_len = sizeof(exe_odd) - 1;
	r.args = cmd1;
	r.args_len = sizeof(cmd1) - 1;
	r.has_cmdline = true;
	r.detail = "truncated=1 deleted=1";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_EXEC);
	r.time_ns = t += 1;
	r.pid = 4243;
	r.ppid = 4242;
	r.uid = 0;
	r.guid = "6f1c1093-0000-4000-8000-000000001093";
	r.exe = "/usr/bin/true";
	r.exe_len = 13;
	r.args = "";
	r.args_len = 0;
	r.has_cmdline = true; /* an empty argv */
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_MODLOAD);
	r.time_ns = t += 20;
	r.pid = 4242;
	r.guid = "6f1c1092-0000-4000-8000-000000001092";
	r.path = "/lib/x86_64-linux-gnu/lib,c\".so.6\n";
	r.path_len = strlen(r.path);
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_NET);
	r.time_ns = t += 300000;
	r.pid = 4242;
	r.guid = "6f1c1092-0000-4000-8000-000000001092";
	r.proto = "tcp";
	ip4(&r.src, 192, 0, 2, 10);
	r.src_port = 43210;
	ip4(&r.dst, 203, 0, 113, 9);
	r.dst_port = 443;
	r.direction = "out";
	r.result = "established";
	r.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_NET);
	r.time_ns = t += 5;
	r.pid = 4242;
	r.proto = "udp";
	ip6(&r.src, v6);
	r.src_port = 53;
	ip6(&r.dst, v6);
	r.dst_port = 5353;
	r.direction = "in";
	r.result = "received";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_NET);
	r.time_ns = t += 5;
	r.pid = 4242;
	r.proto = "icmp";
	ip6(&r.src, v4m);
	r.src_port = 8;
	ip4(&r.dst, 198, 51, 100, 1);
	r.dst_port = 0;
	r.direction = "out";
	r.result = "error:ECONNREFUSED";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_EXIT);
	r.time_ns = t += 7000000000ull;
	r.pid = 4242;
	r.guid = "6f1c1092-0000-4000-8000-000000001092";
	r.result = "signal:SIGKILL";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_LOST);
	r.time_ns = t += 1;
	r.detail = "lost=3 kind=exec";
	log_writer_append(w, &r);

	om_record_init(&r, OM_EVENT_STOP);
	r.time_ns = t += 1;
	r.pid = 321;
	r.detail = "events=12 lost=3";
	log_writer_append(w, &r);
}

static struct log_writer_opts golden_opts(enum log_format f)
{
	struct log_writer_opts o;
	log_writer_opts_default(&o);
	o.format = f;
	o.rotate_size = 0;
	o.rotate_age = 0;
	o.compress_level = 0;
	o.keep_size = 0;
	o.keep_age = 0;
	o.host = (struct jsonl_host){"web1", "0f0e", "1111"};
	return o;
}

/* Write the fixed records, close, open again (recovery reads the last
 * record back) and add START and STOP: the log in dir. */
static int golden_log(const char *dir, enum log_format f)
{
	struct log_writer_opts o = golden_opts(f);
	struct log_writer w;
	if (log_writer_open(&w, dir, &o) != 0)
		return -1;
	append_fixed_records(&w, T0);
	if (log_writer_sync(&w) != 0)
		return -1;
	log_writer_close(&w);
	if (log_writer_open(&w, dir, &o) != 0)
		return -1;
	struct om_record r;
	om_record_init(&r, OM_EVENT_START);
	r.time_ns = T0 + 60000000000ull;
	r.pid = 322;
	r.detail = "version=0.1.0 restarted=1";
	log_writer_append(&w, &r);
	om_record_init(&r, OM_EVENT_STOP);
	r.time_ns = T0 + 61000000000ull;
	r.pid = 322;
	r.detail = "events=0";
	log_writer_append(&w, &r);
	int rc = log_writer_sync(&w);
	log_writer_close(&w);
	return rc;
}

static char *read_in(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tq_read_file(path);
}

TEST(golden_writer_csv_and_jsonl)
{
	char *dir = tq_tempdir();
	CHECK_EQ_INT(golden_log(dir, LOG_FORMAT_CSV), 0);
	char *got = read_in(dir, "onmitsu.csv");
	CHECK(got);
	CHECK_GOLDEN("writer.csv", got);
	free(got);
	tq_rmdir(dir);

	dir = tq_tempdir();
	CHECK_EQ_INT(golden_log(dir, LOG_FORMAT_JSONL), 0);
	got = read_in(dir, "onmitsu.jsonl");
	CHECK(got);
	CHECK_GOLDEN("writer.jsonl", got);
	free(got);
	tq_rmdir(dir);
}

/* One command's stdout and stderr (with dir shown as DIR) and its status. */
static char *run_cmd(int (*fn)(int, char **), const char *const *argv, const char *dir)
{
	char *out, *err;
	int rc = tq_run(fn, argv, &out, &err);
	size_t n = strlen(out) + strlen(err) + 64;
	char *all = malloc(n);
	if (!all)
		abort();
	snprintf(all, n, "%s-- stderr\n%s-- exit %d\n", out, err, rc);
	free(out);
	free(err);
	char *clean = without_dir(all, dir);
	free(all);
	return clean;
}

/* The log in the format made, read back by cat (both formats), verify and the
 * query commands. */
static const char *golden_readers(const char *dir, const char *tag, char *msg, size_t msgsize)
{
	static char buf[256];
	struct {
		const char *name;
		int (*fn)(int, char **);
		const char *argv[12];
	} cmds[] = {
	    {"cat", cmd_cat, {"cat", "-d", dir, NULL}},
	    {"cat-csv", cmd_cat, {"cat", "-d", dir, "--format", "csv", NULL}},
	    {"cat-jsonl", cmd_cat, {"cat", "-d", dir, "--format", "jsonl", NULL}},
	    {"verify", cmd_verify, {"verify", "-d", dir, NULL}},
	    {"who", cmd_who, {"who", "-d", dir, NULL}},
	    {"who-json", cmd_who, {"who", "-d", dir, "--json", NULL}},
	    {"tree-json", cmd_tree, {"tree", "-d", dir, "--pid", "4242", "--json", NULL}},
	    {"timeline-csv", cmd_timeline, {"timeline", "-d", dir, "--csv", NULL}},
	    {"timeline-json", cmd_timeline, {"timeline", "-d", dir, "--json", NULL}},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *got = run_cmd(cmds[i].fn, cmds[i].argv, dir);
		snprintf(buf, sizeof(buf), "writer-%s.%s.out", tag, cmds[i].name);
		const char *why = golden_check(buf, got, msg, msgsize);
		free(got);
		if (why)
			return why;
	}
	return NULL;
}

TEST(golden_written_logs_read_back)
{
	char msg[1024];
	const char *why;
	char *dir = tq_tempdir();
	CHECK_EQ_INT(golden_log(dir, LOG_FORMAT_CSV), 0);
	why = golden_readers(dir, "csv", msg, sizeof(msg));
	tq_rmdir(dir);
	if (why)
		TEST_FAIL_("%s", why);

	dir = tq_tempdir();
	CHECK_EQ_INT(golden_log(dir, LOG_FORMAT_JSONL), 0);
	why = golden_readers(dir, "jsonl", msg, sizeof(msg));
	tq_rmdir(dir);
	if (why)
		TEST_FAIL_("%s", why);
}

/* The query commands on the committed fixtures (tests/data/query). */
TEST(golden_query_fixtures)
{
	char zeus[512], restart[512], both[512], pcap[512];
	snprintf(zeus, sizeof(zeus), "%s", tq_fixture("zeus"));
	snprintf(restart, sizeof(restart), "%s", tq_fixture("restart"));
	snprintf(both, sizeof(both), "%s", tq_fixture("both-ends/log"));
	snprintf(pcap, sizeof(pcap), "%s", tq_fixture("both-ends/syn.pcap"));
	struct {
		const char *name;
		int (*fn)(int, char **);
		const char *argv[14];
	} cmds[] = {
	    {"zeus.cat", cmd_cat, {"cat", "-d", zeus, NULL}},
	    {"zeus.cat-jsonl", cmd_cat, {"cat", "-d", zeus, "--format", "jsonl", NULL}},
	    {"zeus.who", cmd_who, {"who", "-d", zeus, NULL}},
	    {"zeus.who-json", cmd_who, {"who", "-d", zeus, "--json", NULL}},
	    {"zeus.who-csv", cmd_who, {"who", "-d", zeus, "--csv", NULL}},
	    {"zeus.who-dst", cmd_who, {"who", "-d", zeus, "--dst", "203.0.113.0/24", NULL}},
	    {"zeus.tree", cmd_tree, {"tree", "-d", zeus, "--pid", "4241", NULL}},
	    {"zeus.tree-json", cmd_tree, {"tree", "-d", zeus, "--pid", "4241", "--json", NULL}},
	    {"zeus.tree-all-csv", cmd_tree, {"tree", "-d", zeus, "--all", "--csv", NULL}},
	    {"zeus.timeline", cmd_timeline, {"timeline", "-d", zeus, NULL}},
	    {"zeus.timeline-desc-json",
	     cmd_timeline,
	     {"timeline", "-d", zeus, "--pid", "4241", "--descendants", "--json", NULL}},
	    {"zeus.timeline-csv", cmd_timeline, {"timeline", "-d", zeus, "--csv", NULL}},
	    {"restart.cat", cmd_cat, {"cat", "-d", restart, NULL}},
	    {"restart.who-json", cmd_who, {"who", "-d", restart, "--json", NULL}},
	    {"restart.timeline-json", cmd_timeline, {"timeline", "-d", restart, "--json", NULL}},
	    {"restart.tree-all", cmd_tree, {"tree", "-d", restart, "--all", NULL}},
	    {"both-ends.who-json", cmd_who, {"who", "-d", both, "--json", NULL}},
	    {"both-ends.correlate", cmd_correlate, {"correlate", "-d", both, pcap, NULL}},
	    {"both-ends.correlate-json",
	     cmd_correlate,
	     {"correlate", "--json", "-d", both, pcap, NULL}},
	};
	char msg[1024];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *got = run_cmd(cmds[i].fn, cmds[i].argv, test_data_dir());
		char name[256];
		snprintf(name, sizeof(name), "query/%s.out", cmds[i].name);
		if (updating()) {
			char d[512];
			snprintf(d, sizeof(d), "%s/golden", test_data_dir());
			mkdir(d, 0755);
			snprintf(d, sizeof(d), "%s/golden/query", test_data_dir());
			mkdir(d, 0755);
		}
		const char *why = golden_check(name, got, msg, sizeof(msg));
		free(got);
		if (why)
			TEST_FAIL_("%s", why);
	}
}
