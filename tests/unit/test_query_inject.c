/* SPDX-License-Identifier: BSD-2-Clause */
/* INJECT in the query side: the history joins each record to its actor and
 * target, and who/tree report who acted on a process, how, when and how
 * often (history_injected_by, report_injected_*). */
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "query/history.h"
#include "query/report.h"
#include "test.h"
#include "test_query_util.h"

#define IHEADER                                                                                    \
	"time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"          \
	"dst_ip,dst_port,direction,result,path,community_id,detail,sha256,cgroup,container_id,"    \
	"target_pid,target_guid,dns_name,dns_type,dns_answers\n"

#define G(n) "00000000-0000-4000-8000-0000000000" #n
#define TAIL ",,,,,,,,,,,,,,,,,," /* the 18 columns after cmdline */

/* a victim (10), a debugger (20) that attaches and pokes it (a series: 1,
 * then 999, then 5 after the victim's flow), a writer of its mem (30), a
 * JIT (10 itself) and an INJECT naming a target the log never saw */
static const char LOG[] = IHEADER "2026-11-25T10:00:00.000000Z,0,EXEC,100,1," G(10) "," G(
    01) ",0,/usr/bin/victim,victim" TAIL "\n"
	"2026-11-25T10:00:01.000000Z,1,EXEC,200,1," G(20) "," G(
	    01) ",0,/usr/bin/gdb,gdb -p 100" TAIL "\n"
		"2026-11-25T10:00:02.000000Z,2,INJECT,200,," G(
		    20) ",,0,,,,,,,,,ptrace_attach,,,count=1,,,,"
			"100," G(
			    10) ",,,\n"
				"2026-11-25T10:00:02.100000Z,3,INJECT,200,," G(
				    20) ",,0,,,,,,,,,ptrace_poketext,,,count=1,,,,"
					"100," G(
					    10) ",,,\n"
						"2026-11-25T10:00:02.900000Z,4,INJECT,200,," G(
						    20) ",,0,,,,,,,,,ptrace_poketext,,,count=999,"
							",,,100," G(
							    10) ",,,\n"
								"2026-11-25T10:00:03.000000Z,5,"
								"EXEC,300,1," G(30) "," G(
								    01) ",0,/usr/bin/dd,dd" TAIL
									"\n"
									"2026-11-25T10:00:03."
									"500000Z,6,INJECT,300,," G(
									    30) ",,0,,,,,,,,,proc_"
										"mem_write,,,count="
										"1,,,,"
										"100," G(
										    10) ",,,\n"
											"2026-11-"
											"25T10:00:"
											"04."
											"000000Z,7,"
											"INJECT,"
											"100,," G(
											    10) ",,"
												"0,"
												",,"
												",,"
												",,"
												",,"
												"wx"
												"_m"
												"em"
												"or"
												"y,"
												",,"
												"co"
												"un"
												"t="
												"1,"
												",,"
												","
												"10"
												"0"
												"," G(
												    10) ",,,\n"
													"2026-11-25T10:00:05.000000Z,8,NET,100,," G(
													    10) ",,0,,,tcp,192.0.2.1,40000,198.51.100.1,443,"
														"out,established,,,,,,,,,,,\n"
														"2026-11-25T10:00:06.000000Z,9,INJECT,200,," G(
														    20) ",,0,,,,,,,,,ptrace_poketext,,,count=5,,,,"
															"100," G(
															    10) ",,,\n"
																"2026-11-25T10:00:07.000000Z,10,INJECT,200,," G(
																    20) ",,0,,,,,,,,,ptrace_attach,,,"
																	"count=1 target_vpid=7,,,,,,,,\n"
																	"2026-11-25T10:00:08.000000Z,11,INJECT,400,," G(
																	    40) ",,0,,,,,,,,,ld_preload,,,"
																		"value=/tmp/count=9 x.so,,,,400," G(
																		    40) ",,,\n";

static uint64_t t_of(const char *s)
{
	uint64_t t = 0;
	csv_parse_time(s, &t);
	return t;
}

static int load(struct history *h)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", LOG);
	history_init(h);
	int rc = history_load(h, dir, 0, NULL, NULL);
	tq_rmdir(dir);
	return rc;
}

TEST(query_inject_joined_to_actor_and_target)
{
	struct history h;
	CHECK_EQ_INT(load(&h), 0);
	CHECK_EQ_INT((int)h.ninjects, 8);
	int32_t victim = history_find_guid(&h, G(10));
	int32_t gdb = history_find_guid(&h, G(20));
	int32_t dd = history_find_guid(&h, G(30));
	CHECK(victim != PROC_NONE && gdb != PROC_NONE && dd != PROC_NONE);

	/* up to the flow: gdb's attach and 1000 pokes (not the 5 after), dd,
	 * and the process itself; in the order of their first time */
	struct inject_by *v;
	size_t n = history_injected_by(&h, victim, t_of("2026-11-25T10:00:05.000000Z"), &v);
	CHECK_EQ_INT((int)n, 4);
	CHECK_EQ_INT(v[0].actor, gdb);
	CHECK_EQ_STR(history_str(&h, v[0].method), "ptrace_attach");
	CHECK_EQ_INT((int)v[0].count, 1);
	CHECK_EQ_STR(history_str(&h, v[1].method), "ptrace_poketext");
	CHECK_EQ_INT((int)v[1].count, 1000);
	CHECK(v[1].first_ns == t_of("2026-11-25T10:00:02.100000Z"));
	CHECK_EQ_INT(v[2].actor, dd);
	CHECK_EQ_INT(v[3].actor, victim);
	CHECK_EQ_STR(history_str(&h, v[3].method), "wx_memory");
	free(v);
	/* over the whole log: the later pokes count too; the attach to a target
	 * not found is nobody's */
	n = history_injected_by(&h, victim, UINT64_MAX, &v);
	CHECK_EQ_INT((int)n, 4);
	CHECK_EQ_INT((int)v[1].count, 1005);
	free(v);
	/* nobody acted on gdb */
	CHECK_EQ_INT((int)history_injected_by(&h, gdb, UINT64_MAX, &v), 0);
	CHECK(v == NULL);
	/* an LD_* value holding "count=" is not a count */
	int32_t pre = history_find_guid(&h, G(40));
	CHECK(pre != PROC_NONE);
	n = history_injected_by(&h, pre, UINT64_MAX, &v);
	CHECK_EQ_INT((int)n, 1);
	CHECK_EQ_INT((int)v[0].count, 1);
	free(v);
	history_free(&h);
}

TEST(query_inject_report_forms)
{
	struct history h;
	CHECK_EQ_INT(load(&h), 0);
	int32_t victim = history_find_guid(&h, G(10));
	struct strbuf out = STRBUF_INIT;
	report_injected_json(&out, &h, victim, t_of("2026-11-25T10:00:02.500000Z"));
	CHECK_EQ_STR(
	    sb_str(&out),
	    ",\"injected_by\":[{\"pid\":200,\"guid\":\"" G(
		20) "\",\"exe\":\"/usr/bin/gdb\","
		    "\"method\":\"ptrace_attach\",\"time\":\"2026-11-25T10:00:02.000000Z\","
		    "\"count\":1},{\"pid\":200,\"guid\":\"" G(
			20) "\",\"exe\":\"/usr/bin/gdb\","
			    "\"method\":\"ptrace_poketext\",\"time\":\"2026-11-25T10:00:02."
			    "100000Z\","
			    "\"count\":1}]");
	sb_reset(&out);
	/* before anyone acted: no key at all */
	report_injected_json(&out, &h, victim, t_of("2026-11-25T10:00:01.000000Z"));
	CHECK_EQ_STR(sb_str(&out), "");
	report_injected_lines(&out, &h, victim, t_of("2026-11-25T10:00:03.000000Z"), "  ");
	CHECK_EQ_STR(
	    sb_str(&out),
	    "  injected  ptrace_attach by 200 /usr/bin/gdb  (gdb -p 100)  guid " G(
		20) "  at 2026-11-25T10:00:02.000000Z\n"
		    "  injected  ptrace_poketext by 200 /usr/bin/gdb  (gdb -p 100)  guid " G(
			20) "  at 2026-11-25T10:00:02.100000Z  (1000 times)\n");
	/* the CSV field of who --csv and tree --csv */
	sb_reset(&out);
	report_injected_csv(&out, &h, victim, t_of("2026-11-25T10:00:03.000000Z"));
	CHECK_EQ_STR(sb_str(&out),
		     "ptrace_attach:200:" G(20) ":1; ptrace_poketext:200:" G(20) ":1000");
	sb_reset(&out);
	report_injected_csv(&out, &h, victim, t_of("2026-11-25T10:00:01.000000Z"));
	CHECK_EQ_STR(sb_str(&out), "");
	sb_free(&out);
	history_free(&h);
}
