/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workload 9's input: a synthetic onmitsu CSV log of N records (START, then
 * process lives — FORK, EXEC, MODLOADs, NETs, EXIT — then STOP), shaped like
 * a real host's log: pids reused, about 10 records per process, flows to
 * TEST-NET addresses. Deterministic (a fixed PRNG), so every run of `who`
 * reads the same bytes. One flow is planted at 90% of the log: a process
 * /tmp/.cache/dropper (parent /usr/bin/bash) connecting to NEEDLE_IP:NEEDLE_PORT,
 * so that the query's answer can be checked. Community IDs are well-formed
 * but not computed from the tuple (nothing here links a SHA-1).
 *
 * usage: genlog [-n RECORDS] FILE
 * Prints "records=N bytes=B needle=IP:PORT needle_pid=P".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define NEEDLE_IP "192.0.2.77"
#define NEEDLE_PORT 4444
#define MAX_RECORDS 100000000L

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static FILE *out;
static long seq, limit;
static uint64_t t_us = 1795000000ULL * 1000000ULL; /* 2026-11-18 */
static int next_pid = 1000;

struct proc {
	int pid, ppid;
	char guid[37], pguid[37];
	const char *exe, *cmd;
};

static void make_guid(char *buf, uint64_t n)
{
	uint64_t a = n * 0x9e3779b97f4a7c15ULL, b = (n + 7) * 0xc2b2ae3d27d4eb4fULL;
	snprintf(buf, 37, "%08x-%04x-8%03x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff, 0x8000 | ((unsigned)b & 0x3fff),
		 (unsigned long long)(b >> 16) & 0xffffffffffffULL);
}

static void put_time(void)
{
	t_us += 50 + rng() % 400;
	time_t s = (time_t)(t_us / 1000000ULL);
	struct tm tm;
	gmtime_r(&s, &tm);
	fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ,%ld,", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(t_us % 1000000ULL), seq++);
}

static void put_cid(void)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char s[29];
	for (int i = 0; i < 27; i++)
		s[i] = b64[rng() % 64];
	s[27] = '=';
	s[28] = 0;
	fprintf(out, "1:%s", s);
}

static const char *const progs[][2] = {
    {"/usr/bin/curl", "curl -sS https://updates.example/check"},
    {"/usr/bin/python3.11", "python3 /opt/app/worker.py --queue default"},
    {"/usr/bin/ssh", "ssh -o BatchMode=yes backup@198.51.100.20 true"},
    {"/usr/sbin/cron", "/usr/sbin/CRON -f"},
    {"/usr/bin/dash", "/bin/sh -c \"run-parts /etc/cron.hourly\""},
    {"/usr/bin/git", "git fetch --quiet origin"},
    {"/usr/bin/apt-get", "apt-get -qq update"},
    {"/usr/lib/systemd/systemd-resolved", "/lib/systemd/systemd-resolved"},
    {"/usr/bin/wget", "wget -q -O /tmp/index.html http://203.0.113.10/"},
    {"/usr/bin/ls", "ls -la /var/log"},
};
static const char *const libs[] = {
    "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
    "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2"};

static void rec_proc(const char *ev, const struct proc *p, const char *tail)
{
	put_time();
	fprintf(out, "%s,%d,%d,%s,%s,0,%s,", ev, p->pid, p->ppid, p->guid, p->pguid, p->exe);
	/* cmdline: RFC 4180 quoting when it holds a double quote */
	if (strchr(p->cmd, '"')) {
		fputc('"', out);
		for (const char *c = p->cmd; *c; c++) {
			if (*c == '"')
				fputc('"', out);
			fputc(*c, out);
		}
		fputc('"', out);
	} else {
		fputs(p->cmd, out);
	}
	fprintf(out, ",%s\n", tail);
}

static void rec_short(const char *ev, const struct proc *p, const char *mid)
{
	put_time();
	fprintf(out, "%s,%d,%d,%s,%s,0,,,%s\n", ev, p->pid, p->ppid, p->guid, p->pguid, mid);
}

static void rec_net(const struct proc *p, const char *proto, const char *dip, int dport,
		    const char *result)
{
	put_time();
	fprintf(out, "NET,%d,,%s,,0,,,%s,198.51.100.1,%u,%s,%d,out,%s,,", p->pid, p->guid, proto,
		32768 + (unsigned)(rng() % 28000), dip, dport, result);
	put_cid();
	fputs(",\n", out);
}

int main(int argc, char **argv)
{
	limit = 10000000L;
	int c;
	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n') {
			fprintf(stderr, "usage: genlog [-n RECORDS] FILE\n");
			return 2;
		}
		limit = parse_count("genlog", optarg, 100, MAX_RECORDS, "-n");
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: genlog [-n RECORDS] FILE\n");
		return 2;
	}
	out = open_output("genlog", argv[optind]);
	if (!out)
		return 1;
	static char obuf[1 << 20];
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	fputs("time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"
	      "dst_ip,dst_port,direction,result,path,community_id,detail\n",
	      out);
	put_time();
	fputs("START,1,,,,,,,,,,,,,,,,\"version=0.1.0 host=bench-synthetic "
	      "boot_id=00000000-0000-4000-8000-000000000000\"\n",
	      out);

	/* long-lived parents, already running at START */
	static const char *const daemons[][2] = {
	    {"/usr/lib/systemd/systemd", "/sbin/init"},
	    {"/usr/sbin/cron", "/usr/sbin/cron -f"},
	    {"/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
	    {"/usr/bin/bash", "-bash"},
	};
	struct proc parents[4];
	uint64_t nproc = 1;
	for (int i = 0; i < 4; i++) {
		struct proc *d = &parents[i];
		d->pid = i == 0 ? 1 : 400 + i;
		d->ppid = i == 0 ? 0 : 1;
		d->exe = daemons[i][0];
		d->cmd = daemons[i][1];
		make_guid(d->guid, nproc++);
		if (i == 0)
			d->pguid[0] = 0;
		else
			memcpy(d->pguid, parents[0].guid, sizeof(d->pguid));
		rec_proc("EXISTING", d, ",,,,,,,,,");
	}
	long needle_at = limit / 10 * 9;
	int needle_pid = 0;
	char dip[32];
	while (seq < limit - 12) {
		int is_needle = !needle_pid && seq >= needle_at;
		const struct proc parent = parents[is_needle ? 3 : rng() % 4];
		struct proc p;
		p.pid = next_pid++;
		if (next_pid > 4194000)
			next_pid = 300;
		p.ppid = parent.pid;
		make_guid(p.guid, nproc++);
		memcpy(p.pguid, parent.guid, sizeof(p.pguid));
		p.exe = "/usr/bin/bash";
		p.cmd = "bash -c job";
		rec_proc("FORK", &p, ",,,,,,,,,");
		unsigned k = (unsigned)(rng() % 10);
		p.exe = is_needle ? "/tmp/.cache/dropper" : progs[k][0];
		p.cmd = is_needle ? "/tmp/.cache/dropper -q" : progs[k][1];
		rec_proc("EXEC", &p, ",,,,,,,,,");
		unsigned nmods = 2 + (unsigned)(rng() % 4);
		for (unsigned m = 0; m < nmods && m < 5; m++) {
			char mid[128];
			snprintf(mid, sizeof(mid), ",,,,,,,%s,,", libs[m]);
			rec_short("MODLOAD", &p, mid);
		}
		if (is_needle) {
			needle_pid = p.pid;
			rec_net(&p, "tcp", NEEDLE_IP, NEEDLE_PORT, "established");
		}
		unsigned nnet = (unsigned)(rng() % 6);
		for (unsigned i = 0; i < nnet; i++) {
			snprintf(dip, sizeof(dip), "203.0.113.%u", 1 + (unsigned)(rng() % 250));
			if (rng() % 3 == 0)
				rec_net(&p, "udp", "198.51.100.53", 53, "sent");
			else
				rec_net(&p, "tcp", dip, rng() % 2 ? 443 : 80, "established");
		}
		rec_short("EXIT", &p, ",,,,,,exit:0,,,");
	}
	put_time();
	fprintf(out, "STOP,1,,,,,,,,,,,,,,,,events=%ld lost=0\n", seq);
	if (close_output("genlog", argv[optind], out) != 0)
		return 1;
	printf("records=%ld needle=%s:%d needle_pid=%d\n", seq, NEEDLE_IP, NEEDLE_PORT, needle_pid);
	return 0;
}
