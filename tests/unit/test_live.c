/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live process table of `who --follow` (query/live.h): a flow is told
 * with its process and ancestry as `who` tells it, and the table stays
 * bounded: a process leaves at its EXIT unless a descendant in the table
 * needs it, a restart's snapshot drops the processes that ended meanwhile,
 * and lost EXITs cannot grow it past LIVE_MAX_PROCS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/live.h"
#include "test.h"

struct rec_text {
	struct log_record r;
	char guid[40], parent[40], pid[16], target[40];
};

static void guid_of(char *buf, unsigned n)
{
	snprintf(buf, 40, "6f1c%04x-0000-4000-8000-%012x", n & 0xffff, n);
}

/* a record of event for process n (parent: parent, 0 none) at second t */
static const struct log_record *mk(struct rec_text *x, enum om_event event, unsigned n,
				   unsigned parent, const char *exe, const char *cmdline,
				   uint64_t t)
{
	memset(x, 0, sizeof(*x));
	for (int c = 0; c < COL_COUNT; c++)
		x->r.f[c] = "";
	x->r.event = (int)event;
	x->r.time_ns = t * 1000000000ull;
	if (n) {
		guid_of(x->guid, n);
		snprintf(x->pid, sizeof(x->pid), "%u", n);
		x->r.f[COL_GUID] = x->guid;
		x->r.f[COL_PID] = x->pid;
	}
	if (parent) {
		guid_of(x->parent, parent);
		x->r.f[COL_PARENT_GUID] = x->parent;
	}
	if (exe)
		x->r.f[COL_EXE] = exe;
	if (cmdline)
		x->r.f[COL_CMDLINE] = cmdline;
	for (int c = 0; c < COL_COUNT; c++)
		x->r.len[c] = (uint32_t)strlen(x->r.f[c]);
	return &x->r;
}

static void add(struct live *lv, enum om_event event, unsigned n, unsigned parent, const char *exe,
		const char *cmdline, uint64_t t)
{
	struct rec_text x;
	live_add(lv, mk(&x, event, n, parent, exe, cmdline, t));
}

TEST(live_short_lived_processes_leave_at_exit)
{
	struct live lv;
	live_init(&lv);
	add(&lv, OM_EVENT_EXISTING, 1, 0, "/usr/lib/systemd/systemd", "init", 1);
	add(&lv, OM_EVENT_EXISTING, 100, 1, "/usr/sbin/cron", "cron", 1);
	for (unsigned i = 0; i < 100000; i++) {
		unsigned n = 1000 + i;
		add(&lv, OM_EVENT_FORK, n, 100, NULL, NULL, 2);
		add(&lv, OM_EVENT_EXEC, n, 100, "/bin/true", "true", 2);
		add(&lv, OM_EVENT_EXIT, n, 0, NULL, NULL, 2);
	}
	CHECK_EQ_INT(live_count(&lv), 2);
	live_free(&lv);
}

TEST(live_exited_ancestors_stay_while_a_descendant_runs)
{
	struct live lv;
	live_init(&lv);
	add(&lv, OM_EVENT_EXISTING, 812, 0, "/usr/bin/bash", "-bash", 1);
	add(&lv, OM_EVENT_FORK, 4240, 812, NULL, NULL, 2);
	add(&lv, OM_EVENT_EXEC, 4240, 812, "/home/a/invoice.pdf.exe", "./invoice.pdf.exe", 2);
	add(&lv, OM_EVENT_FORK, 4241, 4240, NULL, NULL, 3);
	add(&lv, OM_EVENT_EXEC, 4241, 4240, "/tmp/svch0st", "/tmp/svch0st -s", 3);
	add(&lv, OM_EVENT_FORK, 4242, 4241, NULL, NULL, 4);
	/* the dropper and its copy exit; the grandchild runs on */
	add(&lv, OM_EVENT_EXEC, 4240, 812, "/home/a/invoice.pdf.exe", "later image", 5);
	add(&lv, OM_EVENT_EXIT, 4240, 0, NULL, NULL, 5);
	add(&lv, OM_EVENT_EXIT, 4241, 0, NULL, NULL, 5);
	CHECK_EQ_INT(live_count(&lv), 4);

	struct history h;
	struct dns_hit dns;
	char g[40];
	guid_of(g, 4242);
	int32_t p = live_history(&lv, g, strlen(g), "203.0.113.50", true, &h, &dns);
	CHECK(p != PROC_NONE);
	int32_t chain[HISTORY_MAX_DEPTH];
	int n = history_ancestry(&h, p, chain, HISTORY_MAX_DEPTH);
	CHECK_EQ_INT(n, 3);
	/* the forked child runs its parent's image; each ancestor as it was
	 * when it started the next one */
	CHECK_EQ_STR(history_str(&h, history_image_at(&h, p, 0)->cmdline), "/tmp/svch0st -s");
	CHECK_EQ_INT(h.procs[chain[0]].pid, 4241);
	CHECK_EQ_STR(history_str(&h, history_image_at(&h, chain[1], 0)->cmdline),
		     "./invoice.pdf.exe");
	CHECK_EQ_STR(history_str(&h, history_image_at(&h, chain[2], 0)->exe), "/usr/bin/bash");
	CHECK_EQ_INT(dns.from, DNS_FROM_NONE);
	history_free(&h);

	/* its end takes the exited ancestors with it */
	add(&lv, OM_EVENT_EXIT, 4242, 0, NULL, NULL, 6);
	CHECK_EQ_INT(live_count(&lv), 1);
	live_free(&lv);
}

TEST(live_restart_drops_what_ended_while_down)
{
	struct live lv;
	live_init(&lv);
	add(&lv, OM_EVENT_START, 0, 0, NULL, NULL, 1);
	add(&lv, OM_EVENT_EXISTING, 1, 0, "/sbin/init", "init", 1);
	add(&lv, OM_EVENT_EXISTING, 40, 1, "/tmp/dropper", "dropper", 1);
	add(&lv, OM_EVENT_EXISTING, 50, 1, "/usr/bin/a", "a", 1);
	add(&lv, OM_EVENT_EXISTING, 51, 40, "/usr/bin/b", "b", 1);
	add(&lv, OM_EVENT_FORK, 52, 1, NULL, NULL, 2);
	add(&lv, OM_EVENT_EXIT, 40, 0, NULL, NULL, 2); /* kept: 51 descends from it */
	CHECK_EQ_INT(live_count(&lv), 5);
	add(&lv, OM_EVENT_START, 0, 0, NULL, NULL, 10);
	add(&lv, OM_EVENT_EXISTING, 1, 0, "/sbin/init", "init", 10);
	add(&lv, OM_EVENT_MODLOAD, 1, 0, NULL, NULL, 10); /* the snapshot goes on */
	add(&lv, OM_EVENT_EXISTING, 51, 40, "/usr/bin/b", "b", 10);
	add(&lv, OM_EVENT_FORK, 60, 51, NULL, NULL, 11);
	/* 1, 40 (for 51), 51, 60: 50 and 52 ended while the recorder was down */
	CHECK_EQ_INT(live_count(&lv), 4);
	struct history h;
	struct dns_hit dns;
	char g[40];
	guid_of(g, 60);
	int32_t p = live_history(&lv, g, strlen(g), "", true, &h, &dns);
	int32_t chain[HISTORY_MAX_DEPTH];
	CHECK_EQ_INT(history_ancestry(&h, p, chain, HISTORY_MAX_DEPTH), 3);
	history_free(&h);
	live_free(&lv);
}

TEST(live_lost_exits_cannot_grow_it_past_the_bound)
{
	struct live lv;
	live_init(&lv);
	for (unsigned i = 0; i < LIVE_MAX_PROCS + 5000; i++)
		add(&lv, OM_EVENT_FORK, 1000 + i, 1, NULL, NULL, 2);
	CHECK(live_count(&lv) <= LIVE_MAX_PROCS);
	CHECK(lv.evicted > 0);
	/* the latest are kept */
	struct history h;
	struct dns_hit dns;
	char g[40];
	guid_of(g, 1000 + LIVE_MAX_PROCS + 4999);
	CHECK(live_history(&lv, g, strlen(g), "", true, &h, &dns) != PROC_NONE);
	history_free(&h);
	live_free(&lv);
}

TEST(live_dns_names_and_injections)
{
	struct live lv;
	live_init(&lv);
	struct rec_text x;
	add(&lv, OM_EVENT_EXISTING, 10, 0, "/usr/bin/curl", "curl", 1);
	add(&lv, OM_EVENT_EXISTING, 11, 0, "/usr/bin/gdb", "gdb", 1);
	const struct log_record *r = mk(&x, OM_EVENT_DNS, 10, 0, NULL, NULL, 2);
	x.r.f[COL_DNS_NAME] = "c2.example.net";
	x.r.len[COL_DNS_NAME] = (uint32_t)strlen(x.r.f[COL_DNS_NAME]);
	x.r.f[COL_DNS_ANSWERS] = "CNAME edge.example.net;A 203.0.113.50";
	x.r.len[COL_DNS_ANSWERS] = (uint32_t)strlen(x.r.f[COL_DNS_ANSWERS]);
	live_add(&lv, r);
	r = mk(&x, OM_EVENT_INJECT, 11, 0, NULL, NULL, 3);
	guid_of(x.target, 10);
	x.r.f[COL_TARGET_GUID] = x.target;
	x.r.len[COL_TARGET_GUID] = (uint32_t)strlen(x.target);
	x.r.f[COL_RESULT] = "ptrace_attach";
	x.r.len[COL_RESULT] = (uint32_t)strlen(x.r.f[COL_RESULT]);
	live_add(&lv, r);
	live_add(&lv, r);

	struct history h;
	struct dns_hit dns;
	char g[40];
	guid_of(g, 10);
	int32_t p = live_history(&lv, g, strlen(g), "203.0.113.50", true, &h, &dns);
	CHECK(p != PROC_NONE);
	CHECK_EQ_INT(dns.from, DNS_FROM_PROCESS);
	CHECK_EQ_STR(history_str(&h, dns.name), "c2.example.net");
	struct inject_by *by;
	size_t n = history_injected_by(&h, p, UINT64_MAX, &by);
	CHECK_EQ_INT(n, 1);
	if (n) {
		CHECK_EQ_INT(by[0].count, 2);
		CHECK_EQ_INT(h.procs[by[0].actor].pid, 11);
		CHECK_EQ_STR(history_str(&h, by[0].method), "ptrace_attach");
	}
	free(by);
	history_free(&h);
	/* another process's flow there: the host's name, and who resolved it */
	guid_of(g, 11);
	p = live_history(&lv, g, strlen(g), "203.0.113.50", true, &h, &dns);
	CHECK_EQ_INT(dns.from, DNS_FROM_HOST);
	CHECK_EQ_INT(h.procs[dns.proc].pid, 10);
	history_free(&h);
	live_free(&lv);
}

/* pids wrapped: the snapshot lists a child before its parent (by pid); the
 * parent, once it exits, stays while the child runs, as any other */
TEST(live_parent_after_its_child_in_the_snapshot)
{
	struct live lv;
	live_init(&lv);
	add(&lv, OM_EVENT_START, 0, 0, NULL, NULL, 1);
	add(&lv, OM_EVENT_EXISTING, 1, 0, "/usr/lib/systemd/systemd", "init", 1);
	add(&lv, OM_EVENT_EXISTING, 57, 300000, "/tmp/.x/miner", "miner", 1);
	add(&lv, OM_EVENT_EXISTING, 300000, 1, "/usr/bin/bash", "bash -i", 1);
	/* the snapshot ends at the first live event */
	add(&lv, OM_EVENT_FORK, 300001, 1, NULL, NULL, 2);
	add(&lv, OM_EVENT_EXIT, 300000, 0, NULL, NULL, 3);
	CHECK_EQ_INT(live_count(&lv), 4);

	struct history h;
	struct dns_hit dns;
	char g[40];
	guid_of(g, 57);
	int32_t p = live_history(&lv, g, strlen(g), "203.0.113.50", true, &h, &dns);
	CHECK(p != PROC_NONE);
	int32_t chain[HISTORY_MAX_DEPTH];
	CHECK_EQ_INT(history_ancestry(&h, p, chain, HISTORY_MAX_DEPTH), 2);
	CHECK_EQ_INT(h.procs[chain[0]].pid, 300000);
	CHECK_EQ_STR(history_str(&h, history_image_at(&h, chain[0], 0)->cmdline), "bash -i");
	history_free(&h);

	/* the child's end takes the exited parent with it */
	add(&lv, OM_EVENT_EXIT, 57, 0, NULL, NULL, 4);
	CHECK_EQ_INT(live_count(&lv), 2);
	live_free(&lv);
}
