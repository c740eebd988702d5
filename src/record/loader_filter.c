/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's filter tables (include/onmitsu/filter.h, bpf/filter.bpf.h):
 * a new configuration is written into the generation not in use, then
 * filter_ctl switches to it in one write, so that no event is judged by a
 * mix of the two (nor lost between them).
 */
#include "record/loader_filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util/log.h"

static int fd_of(struct loader *l, const char *name, char *err, size_t errsize)
{
	int fd = loader_map_fd(l, name);
	if (fd < 0)
		snprintf(err, errsize, "the BPF map %s is missing", name);
	return fd;
}

/* Delete every key of map fd whose generation (read by gen_of) is gen. */
static int clear_gen(int fd, size_t key_size, unsigned (*gen_of)(const void *key), unsigned gen)
{
	uint8_t cur[64], next[64];
	if (key_size > sizeof(cur))
		return -1;
	/* collect first: deleting while walking restarts the walk */
	size_t cap = 64, n = 0;
	uint8_t *keys = malloc(cap * key_size);
	if (!keys)
		return -1;
	const void *prev = NULL;
	for (unsigned i = 0; i < 2 * OM_FILTER_MAP_ENTRIES + 2; i++) {
		if (bpf_map_get_next_key(fd, prev, next) != 0)
			break;
		if (gen_of(next) == gen) {
			if (n == cap) {
				uint8_t *k = realloc(keys, 2 * cap * key_size);
				if (!k) {
					free(keys);
					return -1;
				}
				keys = k;
				cap *= 2;
			}
			memcpy(keys + n * key_size, next, key_size);
			n++;
		}
		memcpy(cur, next, key_size);
		prev = cur;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) != 0 && errno != ENOENT)
			rc = -1;
	free(keys);
	return rc;
}

static unsigned uid_gen(const void *k)
{
	return ((const struct om_filter_uid_key *)k)->gen;
}

static unsigned file_gen(const void *k)
{
	return ((const struct om_filter_file_key *)k)->gen;
}

static unsigned cgroup_gen(const void *k)
{
	return (unsigned)((const struct om_filter_cgroup_key *)k)->gen;
}

static unsigned dst_gen(const void *k)
{
	return ((const struct om_filter_dst_key *)k)->gen;
}

int filter_kernel_apply(struct loader *l, const struct filter_tables *t, bool on, unsigned *gen,
			char *err, size_t errsize)
{
	int ctl = fd_of(l, "filter_ctl", err, errsize),
	    gens = fd_of(l, "filter_gens", err, errsize),
	    uids = fd_of(l, "filter_uids", err, errsize),
	    files = fd_of(l, "filter_files", err, errsize),
	    cgroups = fd_of(l, "filter_cgroups", err, errsize),
	    dsts = fd_of(l, "filter_dsts", err, errsize),
	    ports = fd_of(l, "filter_ports", err, errsize);
	if (ctl < 0 || gens < 0 || uids < 0 || files < 0 || cgroups < 0 || dsts < 0 || ports < 0)
		return -1;
	uint32_t zero = 0;
	struct om_filter_ctl c;
	if (bpf_map_lookup_elem(ctl, &zero, &c) != 0) {
		snprintf(err, errsize, "cannot read the filter's state: %s", strerror(errno));
		return -1;
	}
	unsigned g = (c.gen & 1) ^ 1; /* the generation not in use */
	/* what an earlier configuration left in it */
	if (clear_gen(uids, sizeof(struct om_filter_uid_key), uid_gen, g) != 0 ||
	    clear_gen(files, sizeof(struct om_filter_file_key), file_gen, g) != 0 ||
	    clear_gen(cgroups, sizeof(struct om_filter_cgroup_key), cgroup_gen, g) != 0 ||
	    clear_gen(dsts, sizeof(struct om_filter_dst_key), dst_gen, g) != 0) {
		snprintf(err, errsize, "cannot clear the filter's old tables: %s", strerror(errno));
		return -1;
	}
	size_t entries = t->nuids + t->nfiles + t->ncgroups + t->ndsts;
	if (entries > OM_FILTER_MAP_ENTRIES / 2) {
		snprintf(err, errsize, "the filter rules name %zu values: at most %d", entries,
			 OM_FILTER_MAP_ENTRIES / 2);
		return -1;
	}
	for (size_t i = 0; i < t->nuids; i++) {
		struct om_filter_uid_key k = {.gen = g, .uid = t->uids[i].uid};
		if (bpf_map_update_elem(uids, &k, &t->uids[i].mask, BPF_ANY) != 0)
			goto fail;
	}
	for (size_t i = 0; i < t->nfiles; i++) {
		struct om_filter_file_key k = {
		    .gen = g, .dev = t->files[i].file.dev, .ino = t->files[i].file.ino};
		struct om_filter_file_val v = {.exe = t->files[i].exe, .pexe = t->files[i].pexe};
		if (bpf_map_update_elem(files, &k, &v, BPF_ANY) != 0)
			goto fail;
	}
	for (size_t i = 0; i < t->ncgroups; i++) {
		struct om_filter_cgroup_key k = {.gen = g, .id = t->cgroups[i].id};
		if (bpf_map_update_elem(cgroups, &k, &t->cgroups[i].mask, BPF_ANY) != 0)
			goto fail;
	}
	for (size_t i = 0; i < t->ndsts; i++) {
		struct om_filter_dst_key k;
		memset(&k, 0, sizeof(k));
		k.gen = (uint8_t)g;
		k.family = t->dsts[i].family == AF_INET ? 4 : 6;
		memcpy(k.addr, t->dsts[i].addr, 16);
		k.prefixlen = 16 + t->dsts[i].len;
		if (bpf_map_update_elem(dsts, &k, &t->dsts[i].mask, BPF_ANY) != 0)
			goto fail;
	}
	{
		/* 512 KiB: one write */
		uint64_t *p = calloc(65536, sizeof(uint64_t));
		if (!p)
			fatal("out of memory");
		if (t->ports)
			memcpy(p, t->ports, 65536 * sizeof(uint64_t));
		uint32_t k = g;
		int rc = bpf_map_update_elem(ports, &k, p, BPF_ANY);
		free(p);
		if (rc != 0)
			goto fail;
	}
	uint32_t gk = g;
	if (bpf_map_update_elem(gens, &gk, &t->gen, BPF_ANY) != 0)
		goto fail;
	/* the switch: one write */
	c.on = on;
	c.gen = g;
	if (bpf_map_update_elem(ctl, &zero, &c, BPF_ANY) != 0)
		goto fail;
	*gen = g;
	return 0;
fail:
	snprintf(err, errsize, "cannot write the filter's tables: %s", strerror(errno));
	return -1;
}

int filter_kernel_hits(struct loader *l, unsigned gen, uint64_t out[OM_FILTER_HIT_SLOTS], bool zero)
{
	int fd = loader_map_fd(l, "filter_hits");
	int ncpus = libbpf_num_possible_cpus();
	if (fd < 0 || ncpus <= 0)
		return -1;
	uint64_t *vals = calloc((size_t)ncpus, sizeof(uint64_t));
	if (!vals)
		return -1;
	int rc = 0;
	for (uint32_t s = 0; s < OM_FILTER_HIT_SLOTS; s++) {
		uint32_t k = (gen & 1) * OM_FILTER_HIT_SLOTS + s;
		out[s] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals) != 0) {
			rc = -1;
			continue;
		}
		for (int c = 0; c < ncpus; c++)
			out[s] += vals[c];
		if (zero && out[s]) {
			memset(vals, 0, (size_t)ncpus * sizeof(uint64_t));
			bpf_map_update_elem(fd, &k, vals, BPF_ANY);
		}
	}
	free(vals);
	return rc;
}

int filter_kernel_attrs(struct loader *l, uint32_t tgid, struct om_proc_attrs *a)
{
	int fd = loader_map_fd(l, "proc_attrs");
	if (fd < 0)
		return -1;
	return bpf_map_lookup_elem(fd, &tgid, a);
}

void filter_kernel_seed(struct loader *l, uint32_t tgid, const struct om_proc_attrs *a)
{
	int fd = loader_map_fd(l, "proc_attrs");
	/* BPF_NOEXIST: a live fork or exec already wrote a fresher one */
	if (fd >= 0)
		bpf_map_update_elem(fd, &tgid, a, BPF_NOEXIST);
}
