/* SPDX-License-Identifier: BSD-2-Clause */
/* The process history: ancestry across exits, reparenting, pid reuse,
 * restarts of the recorder, corrupt parent links. */
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "query/history.h"
#include "test.h"
#include "test_query_util.h"

#define HEADER                                                                                     \
	"time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"          \
	"dst_ip,dst_port,direction,result,path,community_id,detail\n"

static uint64_t t_of(const char *s)
{
	uint64_t t = 0;
	csv_parse_time(s, &t);
	return t;
}

static const char *exe_of(const struct history *h, int32_t p, const char *when)
{
	const struct proc_image *im = history_image_at(h, p, when ? t_of(when) : UINT64_MAX);
	return im ? history_str(h, im->exe) : "(none)";
}

static void keep_flows(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	if (rec->event == OM_EVENT_NET)
		history_keep_flow(h, rec, proc);
}

/* Load a one-file log given as text, keeping its flows. */
static int load_text(struct history *h, const char *text)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", text);
	history_init(h);
	int rc = history_load(h, dir, LOG_EVENT_BIT(OM_EVENT_NET), keep_flows, NULL);
	tq_rmdir(dir);
	return rc;
}

#define G(n) "00000000-0000-4000-8000-0000000000" #n

TEST(history_ancestry_across_exits)
{
	struct history h;
	history_init(&h);
	CHECK_EQ_INT(history_load(&h, tq_fixture("zeus"), 0, NULL, NULL), 0);
	int32_t orphan = history_find_guid(&h, "6f1c1092-0000-4000-8000-000000001092");
	CHECK(orphan != PROC_NONE);
	/* its parent and grandparent exited before it made any flow */
	int32_t chain[16];
	int n = history_ancestry(&h, orphan, chain, 16);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(h.procs[chain[0]].pid, 4241);
	CHECK_EQ_INT(h.procs[chain[1]].pid, 4240);
	CHECK_EQ_INT(h.procs[chain[2]].pid, 812);
	CHECK_EQ_INT(h.procs[chain[3]].pid, 1);
	CHECK(h.procs[chain[0]].exit_ns != 0);
	CHECK(h.procs[chain[1]].exit_ns != 0);
	CHECK_EQ_STR(exe_of(&h, chain[1], NULL), "/home/alice/Desktop/invoice.pdf.exe");
	/* the ppid moved to 1 (reparenting); the parent link did not */
	CHECK_EQ_INT(h.procs[orphan].ppid, 1);
	CHECK_EQ_INT(h.procs[orphan].parent, chain[0]);
	CHECK_EQ_STR(history_str(&h, h.procs[orphan].exit_result), "signal:KILL");
	history_free(&h);
}

TEST(history_exe_over_time)
{
	struct history h;
	history_init(&h);
	CHECK_EQ_INT(history_load(&h, tq_fixture("zeus"), 0, NULL, NULL), 0);
	int32_t p = history_find_guid(&h, "6f1c1091-0000-4000-8000-000000001091");
	CHECK(p != PROC_NONE);
	/* at its FORK it was still the dropper's image; after EXEC the copy */
	CHECK_EQ_STR(exe_of(&h, p, "2026-11-25T19:10:01.000500Z"),
		     "/home/alice/Desktop/invoice.pdf.exe");
	CHECK_EQ_STR(exe_of(&h, p, "2026-11-25T19:10:01.001000Z"), "/tmp/.cache/svch0st");
	/* before it existed: its first image */
	CHECK_EQ_STR(exe_of(&h, p, "2026-11-25T18:00:00.000000Z"),
		     "/home/alice/Desktop/invoice.pdf.exe");
	CHECK(h.procs[p].origin == ORIGIN_FORK);
	CHECK_EQ_INT(h.procs[p].start_ns, t_of("2026-11-25T19:10:01.000000Z"));
	history_free(&h);
}

TEST(history_pid_reuse)
{
	struct history h;
	history_init(&h);
	CHECK_EQ_INT(history_load(&h, tq_fixture("zeus"), 0, NULL, NULL), 0);
	int32_t first = history_find_guid(&h, "6f1c1092-0000-4000-8000-000000001092");
	int32_t second = history_find_guid(&h, "6f1c4242-0000-4000-8000-000000004242");
	CHECK(first != PROC_NONE && second != PROC_NONE && first != second);
	CHECK_EQ_INT(h.procs[first].pid, 4242);
	CHECK_EQ_INT(h.procs[second].pid, 4242);
	CHECK(history_alive_at(&h, first, t_of("2026-11-25T19:10:30.000000Z")));
	CHECK(!history_alive_at(&h, second, t_of("2026-11-25T19:10:30.000000Z")));
	CHECK(!history_alive_at(&h, first, t_of("2026-11-25T19:12:00.500000Z")));
	CHECK(history_alive_at(&h, second, t_of("2026-11-25T19:12:00.500000Z")));

	struct strbuf msg = STRBUF_INIT;
	int32_t got = PROC_NONE;
	CHECK_EQ_INT(history_pick(&h, 4242, 0, NULL, &got, &msg), 2);
	CHECK(strstr(sb_str(&msg), "used by 2 processes"));
	CHECK(strstr(sb_str(&msg), "6f1c4242-0000-4000-8000-000000004242"));
	sb_reset(&msg);
	CHECK_EQ_INT(history_pick(&h, 4242, t_of("2026-11-25T19:10:30.000000Z"), NULL, &got, &msg),
		     0);
	CHECK_EQ_INT(got, first);
	CHECK_EQ_INT(history_pick(&h, 4242, t_of("2026-11-25T19:12:00.500000Z"), NULL, &got, &msg),
		     0);
	CHECK_EQ_INT(got, second);
	CHECK_EQ_INT(history_pick(&h, 4242, t_of("2026-11-25T19:30:00.000000Z"), NULL, &got, &msg),
		     1);
	CHECK_EQ_INT(history_pick(&h, 99999, 0, NULL, &got, &msg), 1);
	sb_free(&msg);
	/* the second one's parent is bash, not the first one's parent */
	int32_t chain[8];
	CHECK_EQ_INT(history_ancestry(&h, second, chain, 8), 2);
	CHECK_EQ_INT(h.procs[chain[0]].pid, 812);
	history_free(&h);
}

TEST(history_existing_roots)
{
	/* a snapshot process whose parent the log never saw is a root */
	struct history h;
	CHECK_EQ_INT(load_text(&h,
			       HEADER "2026-11-25T10:00:00.000000Z,1,START,,,,,,,,,,,,,,,,,\n"
				      "2026-11-25T10:00:00.000001Z,2,EXISTING,50,40," G(50) "," G(
					  40) ",0,/usr/bin/a,a,,,,,,,,,,\n"
					      "2026-11-25T10:00:00.000002Z,3,EXISTING,60,50," G(
						  60) "," G(50) ",0,/usr/bin/b,b,,,,,,,,,,\n"),
		     0);
	int32_t b = history_find_guid(&h, G(60));
	int32_t a = history_find_guid(&h, G(50));
	int32_t chain[8];
	CHECK_EQ_INT(history_ancestry(&h, b, chain, 8), 1);
	CHECK_EQ_INT(chain[0], a);
	CHECK_EQ_INT(history_ancestry(&h, a, chain, 8), 0);
	CHECK(h.procs[a].origin == ORIGIN_EXISTING);
	/* a snapshot process was running before its record */
	CHECK(history_alive_at(&h, a, t_of("2026-11-25T09:00:00.000000Z")));
	history_free(&h);
}

TEST(history_restart_dedupes_and_keeps_parents)
{
	struct history h;
	history_init(&h);
	CHECK_EQ_INT(
	    history_load(&h, tq_fixture("restart"), LOG_EVENT_BIT(OM_EVENT_NET), NULL, NULL), 0);
	/* EXISTING again after the restart: the same processes, not new ones */
	uint32_t with_pid1 = 0;
	for (uint32_t i = 0; i < h.nprocs; i++)
		with_pid1 += h.procs[i].pid == 1;
	CHECK_EQ_INT(with_pid1, 1);
	CHECK_EQ_INT(h.nperiods, 2);
	CHECK(h.periods[0].stopped);
	int32_t worker = history_find_guid(&h, "6f1c0bb9-0000-4000-8000-000000000bb9");
	CHECK(worker != PROC_NONE);
	/* the second snapshot shows it under init; its FORK said daemonize */
	CHECK_EQ_INT(h.procs[h.procs[worker].parent].pid, 3000);
	CHECK_EQ_INT(h.procs[worker].ppid, 1);
	CHECK(h.procs[worker].origin == ORIGIN_FORK);
	CHECK_EQ_INT(h.procs[worker].start_ns, t_of("2026-11-25T08:01:00.002000Z"));
	/* its cmdline as the second snapshot saw it is a new image from then on */
	const struct proc_image *im =
	    history_image_at(&h, worker, t_of("2026-11-25T09:05:00.000000Z"));
	CHECK_EQ_STR(history_str(&h, im->cmdline), "/usr/bin/worker --reloaded");
	im = history_image_at(&h, worker, t_of("2026-11-25T08:10:00.000000Z"));
	CHECK_EQ_STR(history_str(&h, im->cmdline), "/usr/bin/worker");
	/* sleep was not in the second snapshot: it ended while the recorder was down */
	int32_t sleeper = history_find_guid(&h, "6f1c0c1c-0000-4000-8000-000000000c1c");
	CHECK(sleeper != PROC_NONE);
	CHECK_EQ_INT(h.procs[sleeper].exit_ns, 0);
	CHECK_EQ_INT(h.procs[sleeper].gone_ns, t_of("2026-11-25T09:00:00.000000Z"));
	CHECK(!history_alive_at(&h, sleeper, t_of("2026-11-25T09:06:00.500000Z")));
	/* so pid 3100 at 09:06:30 is ssh, unambiguously */
	struct strbuf msg = STRBUF_INIT;
	int32_t got;
	CHECK_EQ_INT(history_pick(&h, 3100, t_of("2026-11-25T09:06:30.000000Z"), NULL, &got, &msg),
		     0);
	CHECK_EQ_STR(exe_of(&h, got, NULL), "/usr/bin/ssh");
	sb_free(&msg);
	CHECK(history_recording_at(&h, t_of("2026-11-25T08:15:00.000000Z"), 0));
	CHECK(!history_recording_at(&h, t_of("2026-11-25T08:45:00.000000Z"), 0));
	history_free(&h);
}

TEST(history_restart_with_compressed_segment)
{
	/* the same log, its closed segment compressed: the same history */
	char *dir = tq_tempdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/onmitsu-20261125T080000.000000Z-000000000001.csv",
		 tq_fixture("restart"));
	char *closed = tq_read_file(path);
	snprintf(path, sizeof(path), "%s/onmitsu.csv", tq_fixture("restart"));
	char *active = tq_read_file(path);
	CHECK(closed && active);
	tq_write_zst(dir, "onmitsu-20261125T080000.000000Z-000000000001.csv.zst", closed, 0);
	tq_write_str(dir, "onmitsu.csv", active);
	struct history h;
	history_init(&h);
	CHECK_EQ_INT(history_load(&h, dir, LOG_EVENT_BIT(OM_EVENT_NET), NULL, NULL), 0);
	CHECK_EQ_INT(h.records, 19);
	int32_t worker = history_find_guid(&h, "6f1c0bb9-0000-4000-8000-000000000bb9");
	CHECK(worker != PROC_NONE);
	CHECK_EQ_INT(h.procs[h.procs[worker].parent].pid, 3000);
	history_free(&h);
	free(closed);
	free(active);
	tq_rmdir(dir);
}

TEST(history_fork_parent_wins_over_later_records)
{
	/* an EXEC after reparenting names the new parent; the FORK's stays */
	struct history h;
	CHECK_EQ_INT(
	    load_text(
		&h,
		HEADER "2026-11-25T10:00:00.000000Z,1,EXISTING,1,0," G(
		    01) ",,0,/sbin/init,init,,,,,,,,,,\n"
			"2026-11-25T10:00:01.000000Z,2,FORK,20,1," G(20) "," G(
			    01) ",0,/sbin/init,init,,,,,,,,,,\n"
				"2026-11-25T10:00:02.000000Z,3,FORK,21,20," G(21) "," G(
				    20) ",0,/sbin/init,init,,,,,,,,,,\n"
					"2026-11-25T10:00:03.000000Z,4,EXIT,20,1," G(20) "," G(
					    01) ",0,,,,,,,,,exit:0,,,\n"
						"2026-11-25T10:00:04.000000Z,5,EXEC,21,1," G(
						    21) "," G(01) ",0,/usr/bin/x,x,,,,,,,,,,\n"),
	    0);
	int32_t x = history_find_guid(&h, G(21));
	CHECK_EQ_INT(h.procs[h.procs[x].parent].pid, 20);
	CHECK_EQ_INT(h.procs[x].ppid, 1);
	CHECK(h.procs[x].parent_from_fork);
	history_free(&h);
}

TEST(history_parent_cycle_is_cut)
{
	/* a corrupt log where two processes name each other as parent */
	struct history h;
	CHECK_EQ_INT(load_text(&h, HEADER "2026-11-25T10:00:00.000000Z,1,FORK,30,31," G(30) "," G(
				       31) ",0,/bin/a,a,,,,,,,,,,\n"
					   "2026-11-25T10:00:01.000000Z,2,FORK,31,30," G(31) "," G(
					       30) ",0,/bin/b,b,,,,,,,,,,\n"
						   "2026-11-25T10:00:02.000000Z,3,FORK,32,32," G(
						       32) "," G(32) ",0,/bin/c,c,,,,,,,,,,\n"),
		     0);
	int32_t chain[HISTORY_MAX_DEPTH];
	int32_t a = history_find_guid(&h, G(30)), b = history_find_guid(&h, G(31));
	/* the loop is cut in one place: one of them is the other's parent */
	CHECK_EQ_INT(history_ancestry(&h, a, chain, HISTORY_MAX_DEPTH) +
			 history_ancestry(&h, b, chain, HISTORY_MAX_DEPTH),
		     1);
	/* a process naming itself as parent has none */
	CHECK_EQ_INT(history_ancestry(&h, history_find_guid(&h, G(32)), chain, HISTORY_MAX_DEPTH),
		     0);
	history_free(&h);
}

TEST(history_records_without_process_records)
{
	/* a NET record of a process the log never saw start still has its process */
	struct history h;
	CHECK_EQ_INT(
	    load_text(&h, HEADER "2026-11-25T10:00:00.000000Z,1,NET,77,1," G(
			      77) ",,0,,,udp,192.0.2.10,5353,224.0.0.251,5353,out,sent,,,\n"),
	    0);
	int32_t p = history_find_guid(&h, G(77));
	CHECK(p != PROC_NONE);
	CHECK_EQ_INT(h.procs[p].pid, 77);
	CHECK(h.procs[p].origin == ORIGIN_OTHER);
	CHECK(history_image_at(&h, p, UINT64_MAX) == NULL);
	CHECK_EQ_INT(h.nflows, 1);
	CHECK_EQ_INT(h.flows[0].proc, p);
	history_free(&h);
}
