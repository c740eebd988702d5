/* SPDX-License-Identifier: BSD-2-Clause */
/* Names for flows (query/dnsmap.c): `who` and `correlate` show the name a
 * flow's process resolved to its destination most recently before the flow,
 * else one another process of the host resolved ("host"); `who --name`
 * finds flows by the name their own process resolved. */
#include <stdlib.h>
#include <string.h>

#include "query/commands.h"
#include "query/dnsmap.h"
#include "test.h"
#include "test_query_util.h"

#define HDR                                                                                        \
	"time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,dst_ip,"   \
	"dst_port,direction,result,path,community_id,detail,dns_name,dns_type,dns_answers\n"
#define GA "6f1c0a00-0000-4000-8000-00000000000a"
#define GB "6f1c0b00-0000-4000-8000-00000000000b"
#define GC "6f1c0c00-0000-4000-8000-00000000000c"
#define T "2026-11-25T19:00:"

/* A (pid 10) and B (pid 11) resolve; C (pid 12) never does. */
static const char dns_log[] =
    HDR "" T "00.000000Z,1,START,,,,,,,,,,,,,,,,,version=0.3.0,,,\n"
	"" T "00.100000Z,2,EXEC,10,1," GA ",,0,/usr/bin/a,a,,,,,,,,,,,,,\n"
	"" T "00.200000Z,3,EXEC,11,1," GB ",,0,/usr/bin/b,b,,,,,,,,,,,,,\n"
	"" T "00.300000Z,4,EXEC,12,1," GC ",,0,/usr/bin/c,c,,,,,,,,,,,,,\n"
	/* A connects to .5 before any name: none */
	"" T "01.000000Z,5,NET,10,," GA
	",,0,,,tcp,192.0.2.1,40000,203.0.113.5,443,out,established,,,,,,\n"
	/* A resolves www.Example.com: a CNAME, then .5 */
	"" T "02.000000Z,6,DNS,10,," GA
	",,0,,,udp,192.0.2.1,50000,192.0.2.53,53,out,NOERROR,,,msg=response id=1 "
	"answers=2,www.Example.com,A,CNAME edge.example.net;A 203.0.113.5\n"
	/* B resolves other.example: .6 */
	"" T "02.500000Z,7,DNS,11,," GB ",,0,,,udp,192.0.2.1,50001,192.0.2.53,53,out,NOERROR,,,msg="
	"response id=2 answers=1,other.example,A,A 203.0.113.6\n"
	/* B resolves .5 too, later, but B is not A */
	"" T "02.700000Z,8,DNS,11,," GB ",,0,,,udp,192.0.2.1,50002,192.0.2.53,53,out,NOERROR,,,msg="
	"response id=3 answers=1,b-only.example,A,A 203.0.113.5\n"
	/* A -> .5: its own name */
	"" T "03.000000Z,9,NET,10,," GA
	",,0,,,tcp,192.0.2.1,40001,203.0.113.5,443,out,established,,,,,,\n"
	/* A -> .6: B's name (host) */
	"" T "03.100000Z,10,NET,10,," GA
	",,0,,,tcp,192.0.2.1,40002,203.0.113.6,443,out,established,,,,,,\n"
	/* C -> .7: none */
	"" T "03.200000Z,11,NET,12,," GC
	",,0,,,tcp,192.0.2.1,40003,203.0.113.7,443,out,established,,,,,,\n"
	/* A resolves .5 again under another name */
	"" T "04.000000Z,12,DNS,10,," GA
	",,0,,,udp,192.0.2.1,50003,192.0.2.53,53,out,NOERROR,,,msg=response id=4 "
	"answers=2,cdn2.example,AAAA,AAAA 2001:db8::5;A 203.0.113.5\n"
	/* later flows take the newer name */
	"" T "05.000000Z,13,NET,10,," GA
	",,0,,,tcp,192.0.2.1,40004,203.0.113.5,443,out,established,,,,,,\n";

static char *who(const char *dir, const char *const *extra, int *rc)
{
	const char *argv[16] = {"who", "--json", "-d", dir};
	int n = 4;
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	char *out, *err;
	*rc = tq_run(cmd_who, argv, &out, &err);
	free(err);
	return out;
}

/* the line of the flow from source port sport */
static const char *flow_line(const char *out, const char *sport, char *buf, size_t size)
{
	char key[32];
	snprintf(key, sizeof(key), "\"src_port\":%s,", sport);
	const char *p = strstr(out, key);
	if (!p)
		return "";
	const char *s = p, *e = strchr(p, '\n');
	while (s > out && s[-1] != '\n')
		s--;
	snprintf(buf, size, "%.*s", (int)(e - s), s);
	return buf;
}

/* The addresses of a dns_answers text, one parser for who, correlate and
 * who --follow: A and AAAA values only, whatever surrounds them. */
TEST(query_dns_answer_values)
{
	const char *text = "CNAME a.example;A 192.0.2.1;;A;AAAA 2001:db8::1;TXT A 1.2.3.4;A ;A x;";
	const char *p = text, *end = text + strlen(text), *v;
	size_t n;
	const char *want[] = {"192.0.2.1", "2001:db8::1", "x"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(dns_answer_next(&p, end, &v, &n));
		CHECK_EQ_INT((int)n, (int)strlen(want[i]));
		CHECK(memcmp(v, want[i], n) == 0);
	}
	CHECK(!dns_answer_next(&p, end, &v, &n));
	CHECK(p == end);
	/* the end is where the field ends, not at a NUL */
	p = "A 192.0.2.1;A 192.0.2.2";
	end = p + 11;
	CHECK(dns_answer_next(&p, end, &v, &n));
	CHECK_EQ_INT((int)n, 9);
	CHECK(!dns_answer_next(&p, end, &v, &n));
}

TEST(query_who_dns_name_process_host_none)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", dns_log);
	int rc;
	char *out = who(dir, NULL, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(tq_count_lines(out), 5);
	char b[4096];
	CHECK(strstr(flow_line(out, "40000", b, sizeof(b)),
		     "\"dns_name\":null,\"dns_name_from\":null}"));
	/* the question's name, not the CNAME target; A's own, not B's later one */
	CHECK(strstr(flow_line(out, "40001", b, sizeof(b)),
		     "\"dns_name\":\"www.Example.com\",\"dns_name_from\":\"process\"}"));
	CHECK(strstr(flow_line(out, "40002", b, sizeof(b)),
		     "\"dns_name\":\"other.example\",\"dns_name_from\":\"host\"}"));
	CHECK(strstr(flow_line(out, "40003", b, sizeof(b)),
		     "\"dns_name\":null,\"dns_name_from\":null}"));
	/* the most recent before the flow */
	CHECK(strstr(flow_line(out, "40004", b, sizeof(b)),
		     "\"dns_name\":\"cdn2.example\",\"dns_name_from\":\"process\"}"));
	free(out);

	/* the table names it under the flow */
	const char *argv[] = {"who", "-d", dir, "--dst", "203.0.113.6", NULL};
	char *err;
	CHECK_EQ_INT(tq_run(cmd_who, argv, &out, &err), 0);
	CHECK(strstr(out, "    dns       other.example  (resolved on this host by 11 /usr/bin/b at "
			  "2026-11-25T19:00:02.500000Z)\n"));
	free(out);
	free(err);
	const char *argv2[] = {"who", "-d", dir, "--csv", "--src", ":40001", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, argv2, &out, &err), 0);
	CHECK(strstr(out, ",dns_name,dns_name_from,sha256,cgroup,container_id,injected_by\n"));
	CHECK(strstr(out, ",www.Example.com,process,,,,\n"));
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(query_who_name_glob_any_case_own_process_only)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", dns_log);
	int rc;
	const char *www[] = {"--name", "WWW.*.COM", NULL};
	char *out = who(dir, www, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(tq_count_lines(out), 1);
	CHECK(strstr(out, "\"src_port\":40001,"));
	free(out);
	const char *cdn[] = {"--name", "cdn?.example", NULL};
	out = who(dir, cdn, &rc);
	CHECK_EQ_INT(tq_count_lines(out), 1);
	CHECK(strstr(out, "\"src_port\":40004,"));
	free(out);
	/* other.example names A's flow only host-wide: not A's own name */
	const char *other[] = {"--name", "other.example", NULL};
	out = who(dir, other, &rc);
	CHECK_EQ_INT(tq_count_lines(out), 0);
	free(out);
	/* with the other filters */
	const char *both[] = {"--name", "*", "--dst", "203.0.113.5", NULL};
	out = who(dir, both, &rc);
	CHECK_EQ_INT(tq_count_lines(out), 2);
	free(out);
	const char *empty[] = {"--name", "", NULL};
	out = who(dir, empty, &rc);
	CHECK_EQ_INT(rc, 2);
	free(out);
	tq_rmdir(dir);
}

TEST(query_timeline_shows_the_question_and_answers)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", dns_log);
	const char *argv[] = {"timeline", "-d", dir, "--guid", GA, NULL};
	char *out, *err;
	CHECK_EQ_INT(tq_run(cmd_timeline, argv, &out, &err), 0);
	CHECK(strstr(out, "  /usr/bin/a  A www.Example.com -> NOERROR CNAME edge.example.net;A "
			  "203.0.113.5  (udp 192.0.2.53)  [msg=response id=1 answers=2]\n"));
	free(out);
	free(err);
	tq_rmdir(dir);
}
