/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "util/log.h"

uint32_t filter_kdev(uint64_t st_dev)
{
	return (major(st_dev) << 20) | minor(st_dev);
}

/* the kernel's kind for an event it decides, or 0 */
static unsigned kernel_kind(enum om_event e)
{
	switch (e) {
	case OM_EVENT_EXEC:
		return OM_K_EXEC;
	case OM_EVENT_MODLOAD:
		return OM_K_MODLOAD;
	case OM_EVENT_NET:
		return OM_K_NET;
	default:
		return 0;
	}
}

static bool is_kernel_rule(const struct cfg_rule *r)
{
	return !(r->fields & CFG_USER_FIELDS);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		fatal("out of memory");
	return p;
}

static const char *warn_file = "";

static void warn_value(const struct filter_env *env, const struct cfg_rule *r, const char *key,
		       const char *value, const char *why)
{
	if (env && env->warnings)
		sb_addf(env->warnings,
			"%s:%u: [%s %s] %s %s: %s; it matches nothing until a reload finds it\n",
			warn_file, r->line, r->include ? "include" : "exclude", r->name, key, value,
			why);
}

static void resolve_files(const struct filter_env *env, const struct cfg_rule *r, const char *key,
			  const struct cfg_strings *paths, struct filter_file **out, size_t *n)
{
	*out = xrealloc(NULL, paths->n * sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < paths->n; i++) {
		struct stat st;
		/* a link is followed: the kernel sees the file it leads to run */
		if (stat(paths->v[i], &st) != 0) {
			warn_value(env, r, key, paths->v[i], strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			warn_value(env, r, key, paths->v[i], "not a regular file");
			continue;
		}
		(*out)[*n].dev = filter_kdev(st.st_dev);
		(*out)[*n].ino = st.st_ino;
		(*n)++;
	}
}

static void resolve_cgroups(const struct filter_env *env, const struct cfg_rule *r,
			    struct filter_rule_ids *ids)
{
	ids->cgroups = xrealloc(NULL, r->cgroup.n * sizeof(*ids->cgroups));
	ids->ncgroups = 0;
	for (size_t i = 0; i < r->cgroup.n; i++) {
		char path[8192];
		struct stat st;
		const char *root = env && env->cgroup_root ? env->cgroup_root : "/sys/fs/cgroup";
		snprintf(path, sizeof(path), "%s%s", root, r->cgroup.v[i]);
		if (lstat(path, &st) != 0) {
			warn_value(env, r, "cgroup", r->cgroup.v[i], strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			warn_value(env, r, "cgroup", r->cgroup.v[i], "not a cgroup directory");
			continue;
		}
		/* on cgroup v2 a cgroup's id is its directory's inode number */
		ids->cgroups[ids->ncgroups++] = st.st_ino;
	}
}

int filter_build(struct filter *f, const struct om_config *cfg, const struct filter_env *env)
{
	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->nrules = cfg ? cfg->nrules : 0;
	struct om_filter_gen *g = &f->gen;
	for (int fld = 0; fld < OM_FF_COUNT; fld++)
		g->wild[fld] = ~0ull;
	g->dir_rules[0] = g->dir_rules[1] = ~0ull;
	for (int p = 0; p < 4; p++)
		g->proto_rules[p] = ~0ull;
	unsigned include_kernel = 0; /* kinds whose include rules include a kernel one */
	for (size_t i = 0; i < f->nrules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];
		struct filter_rule_ids *ids = &f->ids[i];
		uint64_t bit = 1ull << i;
		warn_file = cfg->name ? cfg->name : "";
		resolve_files(env, r, "exe", &r->exe, &ids->exe, &ids->nexe);
		resolve_files(env, r, "parent-exe", &r->parent_exe, &ids->pexe, &ids->npexe);
		resolve_cgroups(env, r, ids);
		bool kernel = is_kernel_rule(r);
		for (int e = 0; e < OM_EVENT_COUNT; e++) {
			if (!(r->events & (1u << e)))
				continue;
			bool kk = kernel && kernel_kind(e);
			if (r->include) {
				f->include_kinds |= 1u << e;
				if (!kk)
					f->include_user |= 1u << e;
				else
					include_kernel |= 1u << e;
			} else if (!kk) {
				f->exclude_user |= 1u << e;
			}
			if (!kk && (r->fields & (1u << CFG_F_CGROUP)))
				f->user_needs_attrs = true;
			if (kk)
				g->kind_rules[kernel_kind(e)] |= bit;
		}
		if (!kernel)
			continue;
		f->kernel |= bit;
		if (r->include)
			g->include |= bit;
		else
			g->exclude |= bit;
		static const struct {
			int cfg, ff;
		} map[] = {
		    {CFG_F_UID, OM_FF_UID},	    {CFG_F_EXE, OM_FF_EXE},
		    {CFG_F_PARENT_EXE, OM_FF_PEXE}, {CFG_F_CGROUP, OM_FF_CGROUP},
		    {CFG_F_DST, OM_FF_DST},	    {CFG_F_PORT, OM_FF_PORT},
		    {CFG_F_DIRECTION, OM_FF_DIR},   {CFG_F_PROTO, OM_FF_PROTO},
		};
		for (size_t m = 0; m < sizeof(map) / sizeof(map[0]); m++)
			if (r->fields & (1u << map[m].cfg)) {
				g->wild[map[m].ff] &= ~bit;
				g->used |= 1u << map[m].ff;
			}
		if (r->fields & (1u << CFG_F_DIRECTION)) {
			if (!(r->dirs & CFG_DIR_OUT))
				g->dir_rules[OM_DIR_OUT] &= ~bit;
			if (!(r->dirs & CFG_DIR_IN))
				g->dir_rules[OM_DIR_IN] &= ~bit;
		}
		if (r->fields & (1u << CFG_F_PROTO)) {
			if (!(r->protos & CFG_PROTO_TCP))
				g->proto_rules[OM_FP_TCP] &= ~bit;
			if (!(r->protos & CFG_PROTO_UDP))
				g->proto_rules[OM_FP_UDP] &= ~bit;
			if (!(r->protos & CFG_PROTO_ICMP))
				g->proto_rules[OM_FP_ICMP] &= ~bit;
			g->proto_rules[OM_FP_OTHER] &= ~bit;
		}
	}
	/* the kernel drops what no include rule matched only where it knows
	 * every include rule of the kind */
	for (int e = 0; e < OM_EVENT_COUNT; e++)
		if ((include_kernel & (1u << e)) && !(f->include_user & (1u << e)))
			g->include_decides |= 1u << kernel_kind(e);
	return 0;
}

void filter_free(struct filter *f)
{
	for (size_t i = 0; i < CFG_MAX_RULES; i++) {
		free(f->ids[i].exe);
		free(f->ids[i].pexe);
		free(f->ids[i].cgroups);
	}
	memset(f, 0, sizeof(*f));
}

/* ---------------------------------------------------------------- judging */

static bool path_in(const struct cfg_strings *l, const char *p, size_t n)
{
	for (size_t i = 0; p && i < l->n; i++)
		if (strlen(l->v[i]) == n && memcmp(l->v[i], p, n) == 0)
			return true;
	return false;
}

static bool prefix_in(const struct cfg_strings *l, const char *p, size_t n)
{
	for (size_t i = 0; p && i < l->n; i++) {
		size_t pl = strlen(l->v[i]);
		if (pl <= n && memcmp(l->v[i], p, pl) == 0)
			return true;
	}
	return false;
}

static bool file_in(const struct filter_file *fs, size_t n, uint32_t dev, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (fs[i].dev == dev && fs[i].ino == ino)
			return true;
	return false;
}

static bool cidr_holds(const struct cfg_cidr *c, int family, const uint8_t *a)
{
	if (c->family != family)
		return false;
	unsigned full = c->len / 8, rest = c->len % 8;
	if (memcmp(c->addr, a, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff00u >> rest);
		if ((c->addr[full] & m) != (a[full] & m))
			return false;
	}
	return true;
}

static bool rule_matches(const struct filter *f, size_t i, const struct filter_subject *s)
{
	const struct cfg_rule *r = &f->cfg->rules[i];
	const struct filter_rule_ids *ids = &f->ids[i];
	unsigned fl = r->fields;
	if (fl & (1u << CFG_F_UID)) {
		bool ok = false;
		for (size_t k = 0; k < r->nuids && !ok; k++)
			ok = s->uid == (int64_t)r->uids[k];
		if (!ok)
			return false;
	}
	if ((fl & (1u << CFG_F_EXE)) &&
	    !(path_in(&r->exe, s->exe, s->exe_len) ||
	      (s->have_attrs && file_in(ids->exe, ids->nexe, s->attrs.exe_dev, s->attrs.exe_ino))))
		return false;
	if ((fl & (1u << CFG_F_EXE_PREFIX)) && !prefix_in(&r->exe_prefix, s->exe, s->exe_len))
		return false;
	if ((fl & (1u << CFG_F_PARENT_EXE)) &&
	    !(path_in(&r->parent_exe, s->pexe, s->pexe_len) ||
	      (s->have_attrs &&
	       file_in(ids->pexe, ids->npexe, s->attrs.pexe_dev, s->attrs.pexe_ino))))
		return false;
	if ((fl & (1u << CFG_F_PARENT_EXE_PREFIX)) &&
	    !prefix_in(&r->parent_exe_prefix, s->pexe, s->pexe_len))
		return false;
	if (fl & (1u << CFG_F_CGROUP)) {
		bool ok = false;
		for (size_t k = 0; s->have_attrs && k < ids->ncgroups && !ok; k++)
			ok = s->attrs.cgroup == ids->cgroups[k];
		if (!ok)
			return false;
	}
	if (fl & (1u << CFG_F_DST)) {
		bool ok = false;
		for (size_t k = 0; k < r->ndst && !ok; k++)
			ok = cidr_holds(&r->dst[k], s->family, s->daddr);
		if (!ok)
			return false;
	}
	if (fl & (1u << CFG_F_PORT)) {
		bool ok = false;
		bool has_port = s->proto == OM_FP_TCP || s->proto == OM_FP_UDP;
		for (size_t k = 0; has_port && k < r->nports && !ok; k++)
			ok = s->dport >= r->port_lo[k] && s->dport <= r->port_hi[k];
		if (!ok)
			return false;
	}
	if ((fl & (1u << CFG_F_DIRECTION)) && !((s->dir == OM_DIR_OUT && (r->dirs & CFG_DIR_OUT)) ||
						(s->dir == OM_DIR_IN && (r->dirs & CFG_DIR_IN))))
		return false;
	if (fl & (1u << CFG_F_PROTO)) {
		unsigned want = s->proto == OM_FP_TCP	 ? CFG_PROTO_TCP
				: s->proto == OM_FP_UDP	 ? CFG_PROTO_UDP
				: s->proto == OM_FP_ICMP ? CFG_PROTO_ICMP
							 : 0;
		if (!(r->protos & want))
			return false;
	}
	return true;
}

bool filter_judges(const struct filter *f, enum om_event e, bool judged_by_kernel)
{
	if (!filter_active(f) || (unsigned)e >= OM_EVENT_COUNT || !(CFG_FILTERABLE & (1u << e)))
		return false;
	if (!judged_by_kernel || !kernel_kind(e))
		return (f->exclude_user | f->include_kinds | f->kernel) != 0;
	return ((f->exclude_user | f->include_user) & (1u << e)) != 0;
}

int filter_verdict(const struct filter *f, const struct filter_subject *s, bool judged_by_kernel,
		   int *rule)
{
	if (!filter_active(f) || (unsigned)s->event >= OM_EVENT_COUNT)
		return 0;
	unsigned bit = 1u << s->event;
	if (!(bit & CFG_FILTERABLE))
		return 0;
	bool kk = judged_by_kernel && kernel_kind(s->event);
	if (f->exclude_user & bit || !kk) {
		for (size_t i = 0; i < f->nrules; i++) {
			const struct cfg_rule *r = &f->cfg->rules[i];
			if (r->include || !(r->events & bit))
				continue;
			if (kk && (f->kernel & (1ull << i)))
				continue; /* the kernel has judged it */
			if (rule_matches(f, i, s)) {
				*rule = (int)i;
				return 1;
			}
		}
	}
	if (!(f->include_kinds & bit))
		return 0;
	if (kk && !(f->include_user & bit))
		return 0; /* the kernel has judged the include rules */
	for (size_t i = 0; i < f->nrules; i++) {
		const struct cfg_rule *r = &f->cfg->rules[i];
		if (r->include && (r->events & bit) && rule_matches(f, i, s))
			return 0;
	}
	*rule = -1;
	return 1;
}

/* ---------------------------------------------------------------- the kernel's tables */

static bool dst_holds(int fam, unsigned len, const uint8_t *addr, int pfam, const uint8_t *paddr)
{
	struct cfg_cidr c = {.family = fam, .len = len};
	memcpy(c.addr, addr, 16);
	return cidr_holds(&c, pfam, paddr);
}

void filter_tables_build(struct filter_tables *t, const struct filter *f)
{
	memset(t, 0, sizeof(*t));
	t->gen = f->gen;
	for (size_t i = 0; i < f->nrules; i++) {
		uint64_t bit = 1ull << i;
		if (!(f->kernel & bit))
			continue;
		const struct cfg_rule *r = &f->cfg->rules[i];
		const struct filter_rule_ids *ids = &f->ids[i];
		for (size_t k = 0; k < r->nuids; k++) {
			size_t j = 0;
			while (j < t->nuids && t->uids[j].uid != r->uids[k])
				j++;
			if (j == t->nuids) {
				t->uids = xrealloc(t->uids, (t->nuids + 1) * sizeof(*t->uids));
				t->uids[j].uid = r->uids[k];
				t->uids[j].mask = 0;
				t->nuids++;
			}
			t->uids[j].mask |= bit;
		}
		for (int which = 0; which < 2; which++) {
			const struct filter_file *fs = which ? ids->pexe : ids->exe;
			size_t n = which ? ids->npexe : ids->nexe;
			for (size_t k = 0; k < n; k++) {
				size_t j = 0;
				while (j < t->nfiles && !(t->files[j].file.dev == fs[k].dev &&
							  t->files[j].file.ino == fs[k].ino))
					j++;
				if (j == t->nfiles) {
					t->files =
					    xrealloc(t->files, (t->nfiles + 1) * sizeof(*t->files));
					memset(&t->files[j], 0, sizeof(t->files[j]));
					t->files[j].file = fs[k];
					t->nfiles++;
				}
				if (which)
					t->files[j].pexe |= bit;
				else
					t->files[j].exe |= bit;
			}
		}
		for (size_t k = 0; k < ids->ncgroups; k++) {
			size_t j = 0;
			while (j < t->ncgroups && t->cgroups[j].id != ids->cgroups[k])
				j++;
			if (j == t->ncgroups) {
				t->cgroups =
				    xrealloc(t->cgroups, (t->ncgroups + 1) * sizeof(*t->cgroups));
				t->cgroups[j].id = ids->cgroups[k];
				t->cgroups[j].mask = 0;
				t->ncgroups++;
			}
			t->cgroups[j].mask |= bit;
		}
		for (size_t k = 0; k < r->ndst; k++) {
			const struct cfg_cidr *c = &r->dst[k];
			size_t j = 0;
			while (j < t->ndsts &&
			       !(t->dsts[j].family == c->family && t->dsts[j].len == c->len &&
				 memcmp(t->dsts[j].addr, c->addr, 16) == 0))
				j++;
			if (j == t->ndsts) {
				t->dsts = xrealloc(t->dsts, (t->ndsts + 1) * sizeof(*t->dsts));
				t->dsts[j].family = c->family;
				t->dsts[j].len = c->len;
				memcpy(t->dsts[j].addr, c->addr, 16);
				t->dsts[j].mask = 0;
				t->ndsts++;
			}
			t->dsts[j].mask |= bit;
		}
		if (r->nports) {
			if (!t->ports) {
				t->ports = xrealloc(NULL, 65536 * sizeof(uint64_t));
				memset(t->ports, 0, 65536 * sizeof(uint64_t));
			}
			/* ranges may overlap: count starts and ends, then sweep once */
			int32_t *edge = calloc(65537, sizeof(*edge));
			if (!edge)
				fatal("out of memory");
			for (size_t k = 0; k < r->nports; k++) {
				edge[r->port_lo[k]]++;
				edge[r->port_hi[k] + 1]--;
			}
			int32_t depth = 0;
			for (unsigned p = 0; p < 65536; p++) {
				depth += edge[p];
				if (depth > 0)
					t->ports[p] |= bit;
			}
			free(edge);
		}
	}
	/* the trie answers with the longest prefix only: each entry also
	 * carries the rules of every shorter prefix that holds it */
	uint64_t *own = xrealloc(NULL, t->ndsts * sizeof(*own));
	for (size_t j = 0; j < t->ndsts; j++)
		own[j] = t->dsts[j].mask;
	for (size_t j = 0; j < t->ndsts; j++)
		for (size_t k = 0; k < t->ndsts; k++)
			if (k != j && t->dsts[k].len < t->dsts[j].len &&
			    dst_holds(t->dsts[k].family, t->dsts[k].len, t->dsts[k].addr,
				      t->dsts[j].family, t->dsts[j].addr))
				t->dsts[j].mask |= own[k];
	free(own);
}

void filter_tables_free(struct filter_tables *t)
{
	free(t->uids);
	free(t->files);
	free(t->cgroups);
	free(t->dsts);
	free(t->ports);
	memset(t, 0, sizeof(*t));
}
