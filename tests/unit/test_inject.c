/* SPDX-License-Identifier: BSD-2-Clause */
/* INJECT samples and the summaries of their series (record/inject.c). */
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "log/schema.h"
#include "record/consumer.h"
#include "record/guid.h"
#include "test.h"

struct icap {
	struct strbuf lines;
	int n;
	/* the fake kernel map: one series */
	struct om_inject_key key;
	struct om_inject_val val;
	int have;
	int forgotten;
};

static void icapture(void *ctx, struct om_record *r)
{
	struct icap *c = ctx;
	csv_encode(&c->lines, r);
	c->n++;
}

static int fake_read(void *ctx, const struct om_inject_key *k, struct om_inject_val *v)
{
	struct icap *c = ctx;
	if (!c->have || memcmp(k, &c->key, sizeof(*k)) != 0)
		return -1;
	*v = c->val;
	return 0;
}

static void fake_forget(void *ctx, const struct om_inject_key *k)
{
	struct icap *c = ctx;
	if (c->have && memcmp(k, &c->key, sizeof(*k)) == 0) {
		c->have = 0;
		c->forgotten++;
	}
}

static const uint8_t iboot[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void isetup(struct consumer *c, struct icap *cap)
{
	memset(cap, 0, sizeof(*cap));
	consumer_init(c, iboot, icapture, cap);
	c->boot_to_unix_ns = 1764097997000000000ll;
	struct inject_source src = {fake_read, fake_forget, cap};
	consumer_set_inject_source(c, &src);
}

static char *ifield(struct icap *cap, int line, int col)
{
	char *copy = strdup(sb_str(&cap->lines));
	char *p = copy;
	for (int i = 0; i < line && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	char *r;
	if (!p || !*p) {
		r = strdup("(no line)");
	} else {
		char *end = strchr(p, '\n');
		char *fields[40];
		int n = csv_split(p, (size_t)(end - p), fields, 40);
		r = strdup(n > col ? fields[col] : "(none)");
	}
	free(copy);
	return r;
}

#define CHECK_IFIELD(cap, line, col, want)                                                         \
	do {                                                                                       \
		char *f_ = ifield(cap, line, col);                                                 \
		int ok_ = strcmp(f_, want) == 0;                                                   \
		if (!ok_)                                                                          \
			fprintf(stderr, "  line %d col %d: got \"%s\" want \"%s\"\n", line, col,   \
				f_, want);                                                         \
		free(f_);                                                                          \
		CHECK(ok_);                                                                        \
	} while (0)

static size_t make_inject(uint8_t *buf, uint32_t method, uint32_t target, const char *value)
{
	struct om_ev_inject *e = (struct om_ev_inject *)buf;
	memset(e, 0, sizeof(*e));
	size_t vl = value ? strlen(value) : 0;
	e->h.kind = OM_K_INJECT;
	e->h.ts_ns = 5000000000ull;
	e->h.pid = e->h.tid = 700;
	e->h.start_ns = 2500000000ull;
	e->h.uid = 0;
	e->method = method;
	e->target_pid = target;
	e->target_start_ns = target ? 3000000000ull : 0;
	e->target_vpid = target ? target : 77;
	e->value_len = (uint16_t)vl;
	memcpy(buf + sizeof(*e), value ? value : "", vl);
	e->h.size = (uint32_t)(sizeof(*e) + vl);
	return e->h.size;
}

static size_t make_exit(uint8_t *buf, uint32_t pid, uint64_t start_ns)
{
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	memset(e, 0, sizeof(*e));
	e->h.kind = OM_K_EXIT;
	e->h.size = sizeof(*e);
	e->h.ts_ns = 9000000000ull;
	e->h.pid = e->h.tid = pid;
	e->h.start_ns = start_ns;
	return sizeof(*e);
}

/* the first of a series at once, the rest as counts: once a tick finds more,
 * and what is left when the target exits, before its EXIT */
TEST(inject_series_first_then_counts)
{
	struct consumer c;
	struct icap cap;
	isetup(&c, &cap);
	uint8_t buf[512];
	size_t n = make_inject(buf, OM_INJ_PTRACE_POKETEXT, 800, NULL);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(cap.n, 1);
	char guid[GUID_STR_LEN], tguid[GUID_STR_LEN];
	guid_format(guid, iboot, 700, 250);
	guid_format(tguid, iboot, 800, 300);
	CHECK_IFIELD(&cap, 0, COL_EVENT, "INJECT");
	CHECK_IFIELD(&cap, 0, COL_TIME, "2025-11-25T19:13:22.000000Z");
	CHECK_IFIELD(&cap, 0, COL_PID, "700");
	CHECK_IFIELD(&cap, 0, COL_GUID, guid);
	CHECK_IFIELD(&cap, 0, COL_UID, "0");
	CHECK_IFIELD(&cap, 0, COL_RESULT, "ptrace_poketext");
	CHECK_IFIELD(&cap, 0, COL_TARGET_PID, "800");
	CHECK_IFIELD(&cap, 0, COL_TARGET_GUID, tguid);
	CHECK_IFIELD(&cap, 0, COL_DETAIL, "count=1");
	CHECK_EQ_INT((int)c.inject.n, 1);

	/* the kernel counted 999 more */
	cap.key = c.inject.v[0].key;
	cap.have = 1;
	cap.val.hits = 1000;
	cap.val.last_ns = 6000000000ull;
	inject_tick(&c);
	CHECK_EQ_INT(cap.n, 2);
	CHECK_IFIELD(&cap, 1, COL_EVENT, "INJECT");
	CHECK_IFIELD(&cap, 1, COL_TIME, "2025-11-25T19:13:23.000000Z");
	CHECK_IFIELD(&cap, 1, COL_RESULT, "ptrace_poketext");
	CHECK_IFIELD(&cap, 1, COL_TARGET_GUID, tguid);
	CHECK_IFIELD(&cap, 1, COL_DETAIL, "count=999");
	/* nothing new: nothing written */
	inject_tick(&c);
	CHECK_EQ_INT(cap.n, 2);
	/* 5 more, then the target exits: its count comes before its EXIT */
	cap.val.hits = 1005;
	n = make_exit(buf, 800, 3000000000ull);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(cap.n, 4);
	CHECK_IFIELD(&cap, 2, COL_DETAIL, "count=5");
	CHECK_IFIELD(&cap, 3, COL_EVENT, "EXIT");
	CHECK_EQ_INT(cap.forgotten, 1);
	CHECK_EQ_INT((int)c.inject.n, 0);
	consumer_free(&c);
	sb_free(&cap.lines);
}

/* the exit of another process with the same pid (another start) ends nothing */
TEST(inject_series_survive_other_exits)
{
	struct consumer c;
	struct icap cap;
	isetup(&c, &cap);
	uint8_t buf[512];
	size_t n = make_inject(buf, OM_INJ_PROCESS_VM_WRITEV, 800, NULL);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	n = make_exit(buf, 800, 1000000000ull); /* same pid, other start */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT((int)c.inject.n, 1);
	n = make_exit(buf, 700, 2500000000ull); /* the actor */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT((int)c.inject.n, 0);
	consumer_free(&c);
	sb_free(&cap.lines);
}

/* LD_*: the value, last in detail (it may hold spaces), no series */
/* the evidence rule "inject": acting on another process or forcing code in,
 * not what every JIT engine and launcher does */
TEST(inject_methods_that_keep_evidence)
{
	CHECK(inject_method_keeps_evidence(OM_INJ_PTRACE_ATTACH));
	CHECK(inject_method_keeps_evidence(OM_INJ_PROCESS_VM_WRITEV));
	CHECK(inject_method_keeps_evidence(OM_INJ_PROC_MEM_WRITE));
	CHECK(inject_method_keeps_evidence(OM_INJ_LD_PRELOAD));
	CHECK(inject_method_keeps_evidence(OM_INJ_LD_SO_PRELOAD));
	CHECK(!inject_method_keeps_evidence(OM_INJ_WX_MEMORY));
	CHECK(!inject_method_keeps_evidence(OM_INJ_ANON_EXEC));
	CHECK(!inject_method_keeps_evidence(OM_INJ_LD_LIBRARY_PATH));
	CHECK(!inject_method_keeps_evidence(OM_INJ_MAX));
}

TEST(inject_env_value)
{
	struct consumer c;
	struct icap cap;
	isetup(&c, &cap);
	uint8_t buf[512];
	size_t n = make_inject(buf, OM_INJ_LD_LIBRARY_PATH, 700, "/a b:/c\\d");
	((struct om_ev_inject *)buf)->h.flags |= OM_F_VALUE_TRUNC;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_IFIELD(&cap, 0, COL_RESULT, "ld_library_path");
	CHECK_IFIELD(&cap, 0, COL_DETAIL, "value_truncated=1 value=/a b:/c\\x5cd");
	CHECK_IFIELD(&cap, 0, COL_TARGET_PID, "700");
	CHECK_EQ_INT((int)c.inject.n, 0);
	consumer_free(&c);
	sb_free(&cap.lines);
}

/* ld.so.preload given a file by a new name: the name in path, how in detail,
 * no series; each one is a record of its own */
TEST(inject_ld_so_preload_new_name)
{
	struct consumer c;
	struct icap cap;
	isetup(&c, &cap);
	uint8_t buf[512];
	size_t n = make_inject(buf, OM_INJ_LD_SO_PRELOAD, 0, "etc/ld.so.preload");
	((struct om_ev_inject *)buf)->via = OM_VIA_RENAME;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	n = make_inject(buf, OM_INJ_LD_SO_PRELOAD, 0, "/x\\ld.so.preload");
	((struct om_ev_inject *)buf)->via = OM_VIA_SYMLINK;
	((struct om_ev_inject *)buf)->h.flags |= OM_F_VALUE_TRUNC;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(cap.n, 3);
	CHECK_IFIELD(&cap, 1, COL_RESULT, "ld_so_preload");
	CHECK_IFIELD(&cap, 1, COL_PATH, "etc/ld.so.preload");
	CHECK_IFIELD(&cap, 1, COL_DETAIL, "via=rename");
	CHECK_IFIELD(&cap, 2, COL_PATH, "/x\\x5cld.so.preload");
	CHECK_IFIELD(&cap, 2, COL_DETAIL, "via=symlink name_truncated=1");
	CHECK_IFIELD(&cap, 2, COL_TARGET_PID, "");
	CHECK_EQ_INT((int)c.inject.n, 0);
	consumer_free(&c);
	sb_free(&cap.lines);
}

/* a target not found: its pid as the actor named it; a full kernel table */
TEST(inject_unknown_target_and_uncounted)
{
	struct consumer c;
	struct icap cap;
	isetup(&c, &cap);
	uint8_t buf[512];
	size_t n = make_inject(buf, OM_INJ_PTRACE_ATTACH, 0, NULL);
	((struct om_ev_inject *)buf)->h.flags |= OM_F_NO_SERIES;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_IFIELD(&cap, 0, COL_TARGET_PID, "");
	CHECK_IFIELD(&cap, 0, COL_TARGET_GUID, "");
	CHECK_IFIELD(&cap, 0, COL_DETAIL, "count=1 target_vpid=77 uncounted=1");
	CHECK_EQ_INT((int)c.inject.n, 0);
	consumer_free(&c);
	sb_free(&cap.lines);
}

/* what the kernel side claims is checked before it is trusted */
TEST(inject_malformed_samples)
{
	struct consumer c;
	struct icap cap;
	isetup(&c, &cap);
	uint8_t buf[512];
	/* a value on a method that has none */
	size_t n = make_inject(buf, OM_INJ_PTRACE_ATTACH, 800, "x");
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* an unknown method */
	n = make_inject(buf, OM_INJ_MAX, 800, NULL);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	n = make_inject(buf, 0, 800, NULL);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* value_len past the sample */
	n = make_inject(buf, OM_INJ_LD_PRELOAD, 700, "abc");
	((struct om_ev_inject *)buf)->value_len = 4;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* longer than the limit */
	n = make_inject(buf, OM_INJ_LD_PRELOAD, 700, NULL);
	((struct om_ev_inject *)buf)->value_len = OM_INJECT_VALUE_MAX + 1;
	((struct om_ev_inject *)buf)->h.size = (uint32_t)(n + OM_INJECT_VALUE_MAX + 1);
	CHECK_EQ_INT(consumer_sample(&c, buf, n + OM_INJECT_VALUE_MAX + 1), -1);
	/* how a name was given, on a method that is not ld_so_preload */
	n = make_inject(buf, OM_INJ_PTRACE_ATTACH, 800, NULL);
	((struct om_ev_inject *)buf)->via = OM_VIA_RENAME;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* ... an unknown way */
	n = make_inject(buf, OM_INJ_LD_SO_PRELOAD, 0, "ld.so.preload");
	((struct om_ev_inject *)buf)->via = OM_VIA_MAX;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* ... without the name */
	n = make_inject(buf, OM_INJ_LD_SO_PRELOAD, 0, NULL);
	((struct om_ev_inject *)buf)->via = OM_VIA_LINK;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* a name on an open for writing */
	n = make_inject(buf, OM_INJ_LD_SO_PRELOAD, 0, "ld.so.preload");
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	CHECK_EQ_INT(cap.n, 0);
	CHECK_EQ_INT((int)c.bad_samples, 9);
	consumer_free(&c);
	sb_free(&cap.lines);
}
