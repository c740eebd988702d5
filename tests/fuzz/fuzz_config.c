/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration file's parser (record/config.h) and the filter tables
 * built from what it accepts (record/filter.h):
 * - a refusal names the file and a line that exists ("f.conf:N: reason");
 * - what is accepted is within the bounds (rules, values, names), every rule
 *   has a condition and applies only to kinds a filter may drop (a rule
 *   with NET conditions to NET only);
 * - the kernel's tables: every mask names only kernel rules, the port table
 *   marks the ends of every range listed and never port 0.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record/config.h"
#include "record/filter.h"

static size_t lines_of(const uint8_t *d, size_t n)
{
	size_t l = 1;
	for (size_t i = 0; i < n; i++)
		if (d[i] == '\n')
			l++;
	return l;
}

static void check_rules(const struct om_config *c)
{
	FUZZ_CHECK(c->nrules <= CFG_MAX_RULES, "%zu rules", c->nrules);
	for (size_t i = 0; i < c->nrules; i++) {
		const struct cfg_rule *r = &c->rules[i];
		size_t nl = strlen(r->name);
		FUZZ_CHECK(nl >= 1 && nl <= CFG_NAME_MAX, "rule name \"%s\"", r->name);
		for (size_t k = 0; k < nl; k++)
			FUZZ_CHECK(
			    strchr(
				"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.",
				r->name[k]),
			    "rule name \"%s\"", r->name);
		FUZZ_CHECK(r->fields != 0, "rule %s without a condition", r->name);
		FUZZ_CHECK(r->events && !(r->events & ~CFG_FILTERABLE), "rule %s events %x",
			   r->name, r->events);
		FUZZ_CHECK(r->nuids <= CFG_MAX_VALUES && r->nports <= CFG_MAX_VALUES &&
			       r->ndst <= CFG_MAX_VALUES && r->exe.n <= CFG_MAX_VALUES,
			   "rule %s: too many values", r->name);
		for (size_t k = 0; k < r->nports; k++)
			FUZZ_CHECK(r->port_lo[k] >= 1 && r->port_lo[k] <= r->port_hi[k],
				   "rule %s port %u-%u", r->name, r->port_lo[k], r->port_hi[k]);
		for (size_t k = 0; k < r->ndst; k++)
			FUZZ_CHECK(r->dst[k].len <= (r->dst[k].family == 2 ? 32u : 128u),
				   "rule %s dst /%u", r->name, r->dst[k].len);
		if (r->fields & CFG_NET_FIELDS)
			FUZZ_CHECK(r->events == (1u << OM_EVENT_NET),
				   "rule %s: NET fields, events %x", r->name, r->events);
	}
}

static void check_tables(const struct om_config *c)
{
	struct filter f;
	filter_build(&f, c, NULL); /* exe and cgroup paths are not looked up: no env */
	struct filter_tables t;
	filter_tables_build(&t, &f);
	for (size_t i = 0; i < t.nuids; i++)
		FUZZ_CHECK(t.uids[i].mask && !(t.uids[i].mask & ~f.kernel), "uid mask %llx",
			   (unsigned long long)t.uids[i].mask);
	for (size_t i = 0; i < t.ndsts; i++)
		FUZZ_CHECK(t.dsts[i].mask && !(t.dsts[i].mask & ~f.kernel), "dst mask %llx",
			   (unsigned long long)t.dsts[i].mask);
	if (t.ports) {
		for (size_t i = 0; i < c->nrules; i++) {
			const struct cfg_rule *r = &c->rules[i];
			if (!(f.kernel & (1ull << i)))
				continue;
			/* each range's ends are marked */
			for (size_t k = 0; k < r->nports; k++) {
				FUZZ_CHECK(t.ports[r->port_lo[k]] & (1ull << i),
					   "port %u of rule %zu", r->port_lo[k], i);
				FUZZ_CHECK(t.ports[r->port_hi[k]] & (1ull << i),
					   "port %u of rule %zu", r->port_hi[k], i);
			}
			/* port 0 cannot be listed */
			FUZZ_CHECK(!(t.ports[0] & (1ull << i)), "port 0 marked for rule %zu", i);
		}
	}
	filter_tables_free(&t);
	filter_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_config c;
	char err[1024];
	config_init(&c);
	err[0] = '\0';
	int rc = config_parse(&c, "f.conf", (const char *)data, size, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(strncmp(err, "f.conf:", 7) == 0, "message \"%s\"", err);
		char *e;
		unsigned long line = strtoul(err + 7, &e, 10);
		FUZZ_CHECK(*e == ':' && e[1] == ' ' && e[2], "message \"%s\"", err);
		FUZZ_CHECK(line <= lines_of(data, size), "message \"%s\": past the last line %zu",
			   err, lines_of(data, size));
		config_free(&c);
		return 0;
	}
	check_rules(&c);
	check_tables(&c);
	config_free(&c);
	return 0;
}
