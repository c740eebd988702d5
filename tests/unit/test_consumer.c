/* SPDX-License-Identifier: BSD-2-Clause */
/* The consumer: ring-buffer samples in, records out; every sample is checked
 * against what it claims before it is trusted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "log/schema.h"
#include "record/consumer.h"
#include "record/guid.h"
#include "test.h"
#include "util/community_id.h"

struct captured {
	struct strbuf lines;
	int n;
};

static void capture(void *ctx, struct om_record *r)
{
	struct captured *c = ctx;
	csv_encode(&c->lines, r);
	c->n++;
}

static const uint8_t boot[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void setup(struct consumer *c, struct captured *cap)
{
	memset(cap, 0, sizeof(*cap));
	consumer_init(c, boot, capture, cap);
	c->boot_to_unix_ns = 1764097997000000000ll; /* fixed clock for exact times */
}

static void teardown(struct consumer *c, struct captured *cap)
{
	consumer_free(c);
	sb_free(&cap->lines);
}

/* the field'th column of the n'th line (0-based), as a new string */
static char *field(struct captured *cap, int line, int col)
{
	char *copy = strdup(sb_str(&cap->lines));
	char *p = copy;
	for (int i = 0; i < line; i++)
		p = strchr(p, '\n') + 1;
	char *end = strchr(p, '\n');
	char *fields[32];
	int n = csv_split(p, (size_t)(end - p), fields, 32);
	char *r = strdup(n > col ? fields[col] : "(none)");
	free(copy);
	return r;
}

#define CHECK_FIELD(cap, line, col, want)                                                          \
	do {                                                                                       \
		char *f_ = field(cap, line, col);                                                  \
		int ok_ = strcmp(f_, want) == 0;                                                   \
		if (!ok_)                                                                          \
			fprintf(stderr, "  line %d col %d: got \"%s\" want \"%s\"\n", line, col,   \
				f_, want);                                                         \
		free(f_);                                                                          \
		CHECK(ok_);                                                                        \
	} while (0)

static size_t make_exec(uint8_t *buf, uint32_t pid, uint64_t start_ns, const char *exe,
			const char *args, size_t args_len, uint32_t flags)
{
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	memset(e, 0, sizeof(*e));
	size_t exe_len = strlen(exe);
	e->h.kind = OM_K_EXEC;
	e->h.ts_ns = 5000000000ull;
	e->h.pid = e->h.tid = pid;
	e->h.start_ns = start_ns;
	e->h.flags = flags;
	e->h.uid = 1000;
	e->euid = 1000;
	e->ppid = 1;
	e->parent_start_ns = 10000000;
	e->exe_len = (uint16_t)exe_len;
	e->args_len = (uint32_t)args_len;
	memcpy(buf + sizeof(*e), exe, exe_len);
	memcpy(buf + sizeof(*e) + exe_len, args, args_len);
	e->h.size = (uint32_t)(sizeof(*e) + exe_len + args_len);
	return e->h.size;
}

TEST(consumer_exec_fields_exact)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	uint8_t buf[512];
	static const char args[] = "sh\0-c\0echo a,b\0";
	size_t n = make_exec(buf, 4242, 2500000000ull, "/usr/bin/dash", args, sizeof(args) - 1,
			     OM_F_ARGS_TRUNC | OM_F_DELETED);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(cap.n, 1);
	char guid[GUID_STR_LEN], pguid[GUID_STR_LEN];
	guid_format(guid, boot, 4242, 250);
	guid_format(pguid, boot, 1, 1);
	CHECK_FIELD(&cap, 0, COL_TIME, "2025-11-25T19:13:22.000000Z");
	CHECK_FIELD(&cap, 0, COL_EVENT, "EXEC");
	CHECK_FIELD(&cap, 0, COL_PID, "4242");
	CHECK_FIELD(&cap, 0, COL_PPID, "1");
	CHECK_FIELD(&cap, 0, COL_GUID, guid);
	CHECK_FIELD(&cap, 0, COL_PARENT_GUID, pguid);
	CHECK_FIELD(&cap, 0, COL_UID, "1000");
	CHECK_FIELD(&cap, 0, COL_EXE, "/usr/bin/dash");
	CHECK_FIELD(&cap, 0, COL_CMDLINE, "sh -c \"echo a,b\"");
	CHECK_FIELD(&cap, 0, COL_DETAIL, "truncated=1 deleted=1");
	teardown(&c, &cap);
}

/* an EXEC sample through #!: script name (and cwd) after argv */
static size_t add_script(uint8_t *buf, const char *script, const char *cwd, uint32_t flags)
{
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	size_t sl = strlen(script), cl = cwd ? strlen(cwd) : 0;
	memcpy(buf + e->h.size, script, sl);
	memcpy(buf + e->h.size + sl, cwd ? cwd : "", cl);
	e->script_len = (uint16_t)sl;
	e->cwd_len = (uint32_t)cl;
	e->h.flags |= flags;
	e->h.size += (uint32_t)(sl + cl);
	return e->h.size;
}

TEST(consumer_exec_script_in_path)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	uint8_t buf[1024];
	static const char args[] = "/bin/sh\0./run me.sh\0";
	/* relative, named from /srv/app: the cwd is joined, "./" dropped */
	make_exec(buf, 500, 1000000000ull, "/usr/bin/dash", args, sizeof(args) - 1, 0);
	size_t n = add_script(buf, "./run me.sh", "/srv/app", 0);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	/* absolute: as given, no cwd */
	make_exec(buf, 501, 2000000000ull, "/usr/bin/python3.11", args, sizeof(args) - 1, 0);
	n = add_script(buf, "/opt/x/../tool", NULL, 0);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	/* the cwd was cut at the path limit: the field says so */
	make_exec(buf, 502, 3000000000ull, "/usr/bin/dash", args, sizeof(args) - 1, 0);
	n = add_script(buf, "x.sh", "/deep", OM_F_SCRIPT_CWD_TRUNC);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	/* an ordinary EXEC has none */
	n = make_exec(buf, 503, 4000000000ull, "/usr/bin/id", "id\0", 3, 0);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(cap.n, 4);
	CHECK_FIELD(&cap, 0, COL_EXE, "/usr/bin/dash");
	CHECK_FIELD(&cap, 0, COL_PATH, "/srv/app/run me.sh");
	CHECK_FIELD(&cap, 1, COL_EXE, "/usr/bin/python3.11");
	CHECK_FIELD(&cap, 1, COL_PATH, "/opt/x/../tool");
	CHECK_FIELD(&cap, 2, COL_PATH, "\\.../deep/x.sh");
	CHECK_FIELD(&cap, 3, COL_PATH, "");
	teardown(&c, &cap);
}

TEST(consumer_exec_script_lengths_checked)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	uint8_t buf[1024];
	static const char args[] = "sh\0";
	make_exec(buf, 600, 1000000000ull, "/usr/bin/dash", args, sizeof(args) - 1, 0);
	size_t n = add_script(buf, "s.sh", "/w", 0);
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	e->cwd_len = 100; /* beyond the sample */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	e->cwd_len = 2;
	e->script_len = 0; /* a cwd without a script name */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	e->script_len = 4;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(c.bad_samples, 2);
	teardown(&c, &cap);
}

TEST(exec_script_path_joins_and_keeps_dotdot)
{
	struct strbuf sb = STRBUF_INIT;
	exec_script_path(&sb, "./a.sh", 6, "/", 1);
	CHECK_EQ_STR(sb_str(&sb), "/a.sh");
	exec_script_path(&sb, ".//./b", 6, "/w", 2);
	CHECK_EQ_STR(sb_str(&sb), "/w/b");
	exec_script_path(&sb, "../c", 4, "/w/x", 4);
	CHECK_EQ_STR(sb_str(&sb), "/w/x/../c");
	exec_script_path(&sb, "/abs", 4, NULL, 0);
	CHECK_EQ_STR(sb_str(&sb), "/abs");
	sb_free(&sb);
}

TEST(consumer_cut_path_marked_in_the_field)
{
	/* the kernel's walk stopped at its limit: the top directories are
	 * missing, and the field says so itself, not only detail */
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	uint8_t buf[512];
	static const char args[] = "./true\0";
	size_t n = make_exec(buf, 300, 1000000000ull, "/d/d/d/true", args, sizeof(args) - 1,
			     OM_F_PATH_TRUNC);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_FIELD(&cap, 0, COL_EVENT, "EXEC");
	CHECK_FIELD(&cap, 0, COL_EXE, "\\.../d/d/d/true");
	CHECK_FIELD(&cap, 0, COL_DETAIL, "path_truncated=1");

	/* a child inherits the image, and the mark with it, in the table; its
	 * FORK record leaves both out (the parent's EXEC holds them) */
	struct om_ev_proc f = {0};
	f.h.kind = OM_K_FORK;
	f.h.size = sizeof(f);
	f.h.pid = f.h.tid = 301;
	f.h.start_ns = 2000000000ull;
	f.ppid = 300;
	f.parent_start_ns = 1000000000ull;
	CHECK_EQ_INT(consumer_sample(&c, &f, sizeof(f)), 0);
	CHECK_FIELD(&cap, 1, COL_EVENT, "FORK");
	CHECK_FIELD(&cap, 1, COL_EXE, "");
	CHECK_FIELD(&cap, 1, COL_DETAIL, "");
	const struct proc_entry *child = proctable_lookup(&c.procs, 301);
	CHECK(child != NULL && child->exe_truncated);

	/* an exec of a whole path clears it */
	n = make_exec(buf, 301, 2000000000ull, "/usr/bin/id", "id\0", 3, 0);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_FIELD(&cap, 2, COL_EXE, "/usr/bin/id");
	CHECK_FIELD(&cap, 2, COL_DETAIL, "");

	/* a library mapped from too deep */
	struct {
		struct om_ev_mod m;
		char path[32];
	} mod;
	memset(&mod, 0, sizeof(mod));
	static const char lib[] = "/deep/libx.so";
	mod.m.h.kind = OM_K_MODLOAD;
	mod.m.h.pid = mod.m.h.tid = 300;
	mod.m.h.start_ns = 1000000000ull;
	mod.m.h.flags = OM_F_PATH_TRUNC;
	mod.m.path_len = sizeof(lib) - 1;
	memcpy(mod.path, lib, sizeof(lib) - 1);
	mod.m.h.size = (uint32_t)(sizeof(mod.m) + sizeof(lib) - 1);
	CHECK_EQ_INT(consumer_sample(&c, &mod, mod.m.h.size), 0);
	CHECK_FIELD(&cap, 3, COL_EVENT, "MODLOAD");
	CHECK_FIELD(&cap, 3, COL_PATH, "\\.../deep/libx.so");
	CHECK_FIELD(&cap, 3, COL_DETAIL, "path_truncated=1");
	/* and one that is whole is written as it is */
	mod.m.h.flags = 0;
	CHECK_EQ_INT(consumer_sample(&c, &mod, mod.m.h.size), 0);
	CHECK_FIELD(&cap, 4, COL_PATH, "/deep/libx.so");
	teardown(&c, &cap);
}

TEST(consumer_fork_inherits_and_keeps_fork_time_parent)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	uint8_t buf[512];
	static const char args[] = "server\0--port\0"
				   "80\0";
	size_t n = make_exec(buf, 100, 1000000000ull, "/srv/server", args, sizeof(args) - 1, 0);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);

	struct om_ev_proc f = {0};
	f.h.kind = OM_K_FORK;
	f.h.size = sizeof(f);
	f.h.pid = f.h.tid = 200;
	f.h.start_ns = 3000000000ull;
	f.ppid = 100;
	f.parent_start_ns = 1000000000ull;
	CHECK_EQ_INT(consumer_sample(&c, &f, sizeof(f)), 0);
	CHECK_FIELD(&cap, 1, COL_EVENT, "FORK");
	/* exe and cmdline are the parent's EXEC's: the record leaves them out,
	 * the table keeps them for the child */
	CHECK_FIELD(&cap, 1, COL_EXE, "");
	CHECK_FIELD(&cap, 1, COL_CMDLINE, "");
	CHECK_FIELD(&cap, 1, COL_PPID, "100");
	const struct proc_entry *child = proctable_lookup(&c.procs, 200);
	CHECK(child != NULL);
	CHECK_EQ_MEM(child->exe, child->exe_len, "/srv/server", strlen("/srv/server"));

	/* the parent exits; the child is reparented to 1 and exits later */
	struct om_ev_proc x = {0};
	x.h.kind = OM_K_EXIT;
	x.h.size = sizeof(x);
	x.h.pid = x.h.tid = 200;
	x.h.start_ns = 3000000000ull;
	x.ppid = 1; /* the kernel's view now */
	x.parent_start_ns = 10000000;
	x.exit_code = 9; /* killed by SIGKILL */
	CHECK_EQ_INT(consumer_sample(&c, &x, sizeof(x)), 0);
	char pguid[GUID_STR_LEN];
	guid_format(pguid, boot, 100, 100);
	CHECK_FIELD(&cap, 2, COL_EVENT, "EXIT");
	CHECK_FIELD(&cap, 2, COL_PPID, "100");
	CHECK_FIELD(&cap, 2, COL_PARENT_GUID, pguid);
	CHECK_FIELD(&cap, 2, COL_RESULT, "signal:SIGKILL");
	CHECK(proctable_lookup(&c.procs, 200) == NULL);
	teardown(&c, &cap);
}

TEST(consumer_net_tcp_v4_mapped_and_community_id)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	struct om_ev_net e = {0};
	e.h.kind = OM_K_NET;
	e.h.size = sizeof(e);
	e.h.pid = 7;
	e.h.uid = 0;
	e.family = AF_INET6;
	e.proto = IPPROTO_TCP;
	e.direction = OM_DIR_IN;
	e.result = 0;
	uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1};
	uint8_t mapped2[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2};
	memcpy(e.saddr, mapped, 16);
	memcpy(e.daddr, mapped2, 16);
	e.sport = 40000;
	e.dport = 8443;
	CHECK_EQ_INT(consumer_sample(&c, &e, sizeof(e)), 0);
	CHECK_FIELD(&cap, 0, COL_PROTO, "tcp");
	CHECK_FIELD(&cap, 0, COL_SRC_IP, "198.51.100.1");
	CHECK_FIELD(&cap, 0, COL_DST_IP, "198.51.100.2");
	CHECK_FIELD(&cap, 0, COL_SRC_PORT, "40000");
	CHECK_FIELD(&cap, 0, COL_DIRECTION, "in");
	CHECK_FIELD(&cap, 0, COL_RESULT, "established");
	char want[COMMUNITY_ID_LEN];
	uint8_t a[4] = {198, 51, 100, 1}, b[4] = {198, 51, 100, 2};
	community_id_v1(want, 0, 6, AF_INET, a, b, 40000, 8443, true, true);
	CHECK_FIELD(&cap, 0, COL_COMMUNITY_ID, want);
	teardown(&c, &cap);
}

TEST(consumer_connect_results_named)
{
	char buf[48];
	connect_result(buf, sizeof(buf), 0);
	CHECK_EQ_STR(buf, "established");
	connect_result(buf, sizeof(buf), ECONNREFUSED);
	CHECK_EQ_STR(buf, "refused");
	connect_result(buf, sizeof(buf), ETIMEDOUT);
	CHECK_EQ_STR(buf, "timeout");
	connect_result(buf, sizeof(buf), ENETUNREACH);
	CHECK_EQ_STR(buf, "unreachable");
	connect_result(buf, sizeof(buf), ECONNRESET);
	CHECK_EQ_STR(buf, "reset");
	connect_result(buf, sizeof(buf), EADDRNOTAVAIL);
	CHECK_EQ_STR(buf, "error:EADDRNOTAVAIL");
	exit_result(buf, sizeof(buf), 3 << 8);
	CHECK_EQ_STR(buf, "exit:3");
	exit_result(buf, sizeof(buf), 11 | 0x80);
	CHECK_EQ_STR(buf, "signal:SIGSEGV");
}

TEST(consumer_rejects_malformed_samples)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	uint8_t buf[512];
	static const char args[] = "a\0";
	size_t n = make_exec(buf, 1, 1, "/x", args, 2, 0);
	struct om_ev_proc *e = (struct om_ev_proc *)buf;

	CHECK_EQ_INT(consumer_sample(&c, buf, 3), -1);	   /* shorter than a header */
	CHECK_EQ_INT(consumer_sample(&c, buf, n - 1), -1); /* size disagrees with h.size */
	e->exe_len = 400;				   /* lengths beyond the sample */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	e->exe_len = 2;
	e->args_len = 0xffffffffu; /* overflow attempt */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	e->args_len = 2;
	e->h.kind = 99; /* unknown kind */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	e->h.kind = OM_K_EXEC;
	struct om_ev_net net = {0};
	net.h.kind = OM_K_NET;
	net.h.size = sizeof(net);
	net.family = 77; /* bad family */
	CHECK_EQ_INT(consumer_sample(&c, &net, sizeof(net)), -1);
	net.family = AF_INET;
	net.proto = 47; /* not a protocol we emit */
	CHECK_EQ_INT(consumer_sample(&c, &net, sizeof(net)), -1);
	CHECK_EQ_INT(cap.n, 0);
	CHECK_EQ_INT(c.bad_samples, 7);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0); /* the intact one still goes through */
	CHECK_EQ_INT(cap.n, 1);
	teardown(&c, &cap);
}

TEST(proctable_many_insert_remove)
{
	struct proctable t;
	proctable_init(&t);
	/* enough to grow, with removals that exercise backward-shift deletion */
	for (uint32_t pid = 1; pid <= 5000; pid++) {
		struct proc_entry *e = proctable_put(&t, pid * 7);
		e->start_ticks = pid;
	}
	for (uint32_t pid = 1; pid <= 5000; pid += 2)
		proctable_remove(&t, pid * 7);
	for (uint32_t pid = 1; pid <= 5000; pid++) {
		struct proc_entry *e = proctable_lookup(&t, pid * 7);
		if (pid % 2) {
			CHECK(e == NULL);
		} else {
			CHECK(e != NULL);
			CHECK_EQ_INT(e->start_ticks, pid);
		}
	}
	CHECK_EQ_INT(t.count, 2500);
	proctable_free(&t);
}

TEST(consumer_net_late_flag_in_detail)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	struct om_ev_net e = {0};
	e.h.kind = OM_K_NET;
	e.h.size = sizeof(e);
	e.h.pid = 9;
	e.h.flags = OM_F_LATE;
	e.family = AF_INET;
	e.proto = IPPROTO_TCP;
	uint8_t a[4] = {127, 0, 0, 1};
	memcpy(e.saddr, a, 4);
	memcpy(e.daddr, a, 4);
	e.sport = 50000;
	e.dport = 80;
	CHECK_EQ_INT(consumer_sample(&c, &e, sizeof(e)), 0);
	CHECK_FIELD(&cap, 0, COL_RESULT, "established");
	CHECK_FIELD(&cap, 0, COL_DETAIL, "late=1");
	e.h.uid = (uint32_t)-1; /* and with an unknown owner */
	CHECK_EQ_INT(consumer_sample(&c, &e, sizeof(e)), 0);
	CHECK_FIELD(&cap, 1, COL_DETAIL, "owner=unknown late=1");
	CHECK_FIELD(&cap, 1, COL_PID, "");
	teardown(&c, &cap);
}

/* A DNS packet as the kernel hands it over (bpf/dns.bpf.h): egress is the
 * client's query, ingress its response; the packet's own addresses. */
struct dns_sample {
	struct om_ev_dns e;
	uint8_t data[OM_DNS_CAP];
};

/* The sample's size: the fixed part and the smallest data area that holds
 * len, as the kernel reserves it. */
static size_t make_dns(struct dns_sample *sm, int egress, uint8_t proto, const uint8_t *msg,
		       size_t len)
{
	struct om_ev_dns *e = &sm->e;
	memset(sm, 0, sizeof(*sm));
	size_t area = len <= OM_DNS_CAP_SMALL	 ? OM_DNS_CAP_SMALL
		      : len <= OM_DNS_CAP_MEDIUM ? OM_DNS_CAP_MEDIUM
						 : OM_DNS_CAP;
	e->h.kind = OM_K_DNS;
	e->h.size = (uint32_t)(sizeof(*e) + area);
	e->h.ts_ns = 5000000000ull;
	e->h.pid = e->h.tid = 4242;
	e->h.start_ns = 7000000000ull;
	e->h.uid = 1000;
	e->family = AF_INET;
	e->proto = proto;
	e->egress = (uint8_t)egress;
	uint8_t client[4] = {192, 0, 2, 1}, server[4] = {198, 51, 100, 53};
	memcpy(e->saddr, egress ? client : server, 4);
	memcpy(e->daddr, egress ? server : client, 4);
	e->sport = egress ? 40000 : 53;
	e->dport = egress ? 53 : 40000;
	e->len = (uint32_t)len;
	e->cap_len = (uint16_t)(len < area ? len : area);
	memcpy(sm->data, msg, e->cap_len);
	e->sock_cookie = 99;
	return e->h.size;
}

/* example.com A, answered 192.0.2.80 */
static const uint8_t dns_resp[] = {0x12, 0x34, 0x81, 0x80, 0,	1,    0,    1,	 0, 0,	 0,   0,
				   7,	 'e',  'x',  'a',  'm', 'p',  'l',  'e', 3, 'c', 'o', 'm',
				   0,	 0,    1,    0,	   1,	0xc0, 0x0c, 0,	 1, 0,	 1,   0,
				   0,	 0,    60,   0,	   4,	192,  0,    2,	 80};

TEST(consumer_dns_response_fields)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	static struct dns_sample e;
	size_t n = make_dns(&e, 0, IPPROTO_UDP, dns_resp, sizeof(dns_resp));
	CHECK_EQ_INT(consumer_sample(&c, &e, n), 0);
	CHECK_EQ_INT(cap.n, 1);
	CHECK_FIELD(&cap, 0, COL_EVENT, "DNS");
	CHECK_FIELD(&cap, 0, COL_PID, "4242");
	CHECK_FIELD(&cap, 0, COL_UID, "1000");
	CHECK_FIELD(&cap, 0, COL_PROTO, "udp");
	/* the client is the source, though the response went the other way */
	CHECK_FIELD(&cap, 0, COL_SRC_IP, "192.0.2.1");
	CHECK_FIELD(&cap, 0, COL_SRC_PORT, "40000");
	CHECK_FIELD(&cap, 0, COL_DST_IP, "198.51.100.53");
	CHECK_FIELD(&cap, 0, COL_DST_PORT, "53");
	CHECK_FIELD(&cap, 0, COL_DIRECTION, "out");
	CHECK_FIELD(&cap, 0, COL_RESULT, "NOERROR");
	CHECK_FIELD(&cap, 0, COL_DNS_NAME, "example.com");
	CHECK_FIELD(&cap, 0, COL_DNS_TYPE, "A");
	CHECK_FIELD(&cap, 0, COL_DNS_ANSWERS, "A 192.0.2.80");
	CHECK_FIELD(&cap, 0, COL_DETAIL, "msg=response id=4660 answers=1");
	char cid[COMMUNITY_ID_LEN];
	uint8_t a[4] = {192, 0, 2, 1}, b[4] = {198, 51, 100, 53};
	CHECK_EQ_INT(community_id_v1(cid, 0, IPPROTO_UDP, AF_INET, a, b, 40000, 53, true, true), 0);
	CHECK_FIELD(&cap, 0, COL_COMMUNITY_ID, cid);
	/* the query: no result, no answers */
	uint8_t q[29];
	memcpy(q, dns_resp, sizeof(q));
	q[2] = 0x01;
	q[3] = 0;
	q[7] = 0;
	n = make_dns(&e, 1, IPPROTO_UDP, q, sizeof(q));
	CHECK_EQ_INT(consumer_sample(&c, &e, n), 0);
	CHECK_FIELD(&cap, 1, COL_RESULT, "");
	CHECK_FIELD(&cap, 1, COL_SRC_IP, "192.0.2.1");
	CHECK_FIELD(&cap, 1, COL_DETAIL, "msg=query id=4660");
	CHECK_FIELD(&cap, 1, COL_DNS_ANSWERS, "");
	teardown(&c, &cap);
}

TEST(consumer_dns_malformed_counted_not_written)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	static struct dns_sample e;
	uint8_t bad[sizeof(dns_resp)];
	memcpy(bad, dns_resp, sizeof(bad));
	bad[40] = 5; /* an A record of 5 octets */
	size_t n = make_dns(&e, 0, IPPROTO_UDP, bad, sizeof(bad));
	CHECK_EQ_INT(consumer_sample(&c, &e, n), 0);
	CHECK_EQ_INT(cap.n, 0);
	CHECK_EQ_INT(c.dns_malformed, 1);
	CHECK_EQ_INT(c.bad_samples, 0);
	/* a sample that lies about its own sizes is a bad sample */
	n = make_dns(&e, 0, IPPROTO_UDP, dns_resp, sizeof(dns_resp));
	e.e.cap_len = OM_DNS_CAP_SMALL + 1; /* more than its area */
	CHECK_EQ_INT(consumer_sample(&c, &e, n), -1);
	e.e.cap_len = 10;
	e.e.len = 5;
	CHECK_EQ_INT(consumer_sample(&c, &e, n), -1);
	/* an area of a size the kernel never reserves */
	n = make_dns(&e, 0, IPPROTO_UDP, dns_resp, sizeof(dns_resp));
	e.e.h.size = (uint32_t)(sizeof(e.e) + 200);
	CHECK_EQ_INT(consumer_sample(&c, &e, sizeof(e.e) + 200), -1);
	CHECK_EQ_INT(c.bad_samples, 3);
	teardown(&c, &cap);
}

TEST(consumer_dns_tcp_segment_and_continuation)
{
	struct consumer c;
	struct captured cap;
	setup(&c, &cap);
	static struct dns_sample e;
	uint8_t seg[2 + sizeof(dns_resp)];
	seg[0] = 0;
	seg[1] = sizeof(dns_resp);
	memcpy(seg + 2, dns_resp, sizeof(dns_resp));
	size_t n = make_dns(&e, 0, IPPROTO_TCP, seg, sizeof(seg));
	e.e.tcp_seq = 1000;
	CHECK_EQ_INT(consumer_sample(&c, &e, n), 0);
	CHECK_EQ_INT(cap.n, 1);
	CHECK_FIELD(&cap, 0, COL_PROTO, "tcp");
	CHECK_FIELD(&cap, 0, COL_DNS_ANSWERS, "A 192.0.2.80");
	/* the same segment again (a retransmission): nothing */
	CHECK_EQ_INT(consumer_sample(&c, &e, n), 0);
	CHECK_EQ_INT(cap.n, 1);
	CHECK_EQ_INT(c.dns_malformed, 0);
	teardown(&c, &cap);
}
