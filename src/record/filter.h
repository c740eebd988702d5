/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Filter rules (docs/CONFIG.md): compiled from the configuration into the
 * kernel's tables (include/onmitsu/filter.h) for the rules the kernel can
 * decide, and judged here, before the writer, for the others and for the
 * records made in user space (EXISTING and its MODLOADs).
 *
 * A record is kept when (no include rule applies to its kind, or one
 * matches) and no exclude rule matches. A rule matches when each of its
 * keys does; a key matches when one of its values does.
 */
#ifndef ONMITSU_FILTER_RULES_H
#define ONMITSU_FILTER_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/record.h"
#include "onmitsu/event.h"
#include "onmitsu/filter.h"
#include "record/config.h"
#include "util/strbuf.h"

struct filter_file {
	uint32_t dev; /* kernel encoding (major << 20 | minor) */
	uint64_t ino;
};

struct filter_rule_ids {
	struct filter_file *exe, *pexe;
	size_t nexe, npexe;
	uint64_t *cgroups;
	size_t ncgroups;
};

struct filter {
	const struct om_config *cfg; /* the rules (not owned) */
	size_t nrules;
	struct filter_rule_ids ids[CFG_MAX_RULES]; /* exe and cgroup conditions, resolved */
	uint64_t kernel;			   /* rules the kernel decides */
	unsigned include_kinds;			   /* 1 << OM_EVENT_*: some include rule applies */
	unsigned include_user;			   /* ...and user space must decide them */
	unsigned exclude_user;			   /* kinds with an exclude rule decided here */
	bool user_needs_attrs;			   /* a rule judged here has a cgroup condition */
	struct om_filter_gen gen;		   /* the kernel's summary (filter.h) */
};

/* What a record says about its process and flow. */
struct filter_subject {
	enum om_event event;
	int64_t uid; /* OM_NONE: unknown */
	const char *exe, *pexe;
	size_t exe_len, pexe_len;
	bool have_attrs; /* attrs below are known */
	struct om_proc_attrs attrs;
	/* NET */
	int family;
	uint8_t daddr[16];
	int64_t dport;
	int dir;   /* OM_DIR_*, -1 unknown */
	int proto; /* OM_FP_* */
};

/* Where cgroup paths and exe paths are resolved (a test gives a fixture);
 * cgroup_root: the cgroup v2 mount. */
struct filter_env {
	const char *cgroup_root;
	/* warnings (a missing file or cgroup: that value matches nothing until
	 * a reload) go here when not NULL, one per line */
	struct strbuf *warnings;
};

/* Compile cfg's rules (cfg must outlive f). 0 always (values that do not
 * resolve match nothing, and are warned). */
int filter_build(struct filter *f, const struct om_config *cfg, const struct filter_env *env);
void filter_free(struct filter *f);

/* Whether any rule exists. */
static inline bool filter_active(const struct filter *f)
{
	return f && f->nrules > 0;
}

/* Whether anything is left to judge here for a record of kind e (false:
 * keep it without looking; the kernel has applied all its rules). */
bool filter_judges(const struct filter *f, enum om_event e, bool judged_by_kernel);

/*
 * Judge a record: 1 to drop it (*rule: the exclude rule's index, or -1 when
 * no include rule matched), 0 to keep it. judged_by_kernel: the kernel has
 * already applied its rules to it (a live event), so only the others are
 * judged here; false for records made in user space (all rules apply).
 */
int filter_verdict(const struct filter *f, const struct filter_subject *s, bool judged_by_kernel,
		   int *rule);

/* The kernel's tables, for the loader. */
struct filter_tables {
	struct om_filter_gen gen;
	struct {
		uint32_t uid;
		uint64_t mask;
	} * uids;
	size_t nuids;
	struct {
		struct filter_file file;
		uint64_t exe, pexe;
	} * files;
	size_t nfiles;
	struct {
		uint64_t id;
		uint64_t mask;
	} * cgroups;
	size_t ncgroups;
	struct {
		int family;
		unsigned len;
		uint8_t addr[16];
		uint64_t mask; /* with the rules of every shorter prefix that holds it */
	} * dsts;
	size_t ndsts;
	uint64_t *ports; /* [65536], NULL when no rule has a port */
};

void filter_tables_build(struct filter_tables *t, const struct filter *f);
void filter_tables_free(struct filter_tables *t);

/* The kernel encoding of a stat's st_dev. */
uint32_t filter_kdev(uint64_t st_dev);

#endif
