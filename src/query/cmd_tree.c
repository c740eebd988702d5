/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu tree: the family around a process (its ancestors, itself, all its
 * descendants), or the whole forest of a time window, each process with what
 * it ran, its flows and its modules.
 *
 * Two passes: the first builds the process history (small), the second keeps
 * only the NET and MODLOAD records of the processes shown, so a long log does
 * not have to fit in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/cli.h"
#include "query/commands.h"
#include "query/filter.h"
#include "query/history.h"
#include "query/output.h"
#include "query/report.h"
#include "util/log.h"

static void tree_usage(void)
{
	printf(
	    "usage: onmitsu tree (--pid P [--at T] | --guid G | --all) [OPTION...]\n"
	    "\n"
	    "Show a process's family: its ancestors, the process (marked *), all its\n"
	    "descendants, each with the programs it ran, its flows and its modules.\n"
	    "\n"
	    "  --pid P [--at T]      the process with pid P (at time T when the pid was reused)\n"
	    "  --guid G              the process with this guid\n"
	    "  --all                 every process alive in the --since/--until window\n"
	    "  --since T, --until T  UTC ISO 8601 (2026-11-25T19:13:17Z) or relative (-2h);\n"
	    "                        also limits the flows and modules shown\n"
	    "  --no-modules          leave modules out\n"
	    "  --json                JSON Lines, one object per process, in tree order\n"
	    "  --csv                 CSV, one row per process, program run, flow and module\n"
	    "  -d, --log-dir DIR     the log directory (default " DEFAULT_LOG_DIR ")\n"
	    "  -h, --help            this help\n");
}

enum {
	OPT_ALL = CLI_OPT_OWN,
	OPT_NO_MODULES,
};

enum role { ROLE_NONE = 0, ROLE_ANCESTOR, ROLE_TARGET, ROLE_DESCENDANT, ROLE_MEMBER };

static const char *const role_names[] = {"", "ancestor", "target", "descendant", "member"};

struct tree_state {
	uint8_t *role; /* per process */
	uint64_t since_ns, until_ns;
	bool modules;
	int32_t *flow_head, *flow_next; /* per process / per kept flow */
	int32_t *mod_head, *mod_next;
};

static void tree_record(struct history *h, const struct log_record *rec, int32_t proc, void *arg)
{
	struct tree_state *st = arg;
	if (proc == PROC_NONE || !st->role[proc])
		return;
	if (rec->time_ns < st->since_ns || rec->time_ns > st->until_ns)
		return;
	if (rec->event == OM_EVENT_NET)
		history_keep_flow(h, rec, proc);
	else if (rec->event == OM_EVENT_MODLOAD && st->modules)
		history_keep_module(h, rec, proc);
}

static int32_t *new_index(size_t n)
{
	int32_t *p = malloc((n ? n : 1) * sizeof(*p));
	if (!p)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++)
		p[i] = PROC_NONE;
	return p;
}

/* per-process lists of kept flows and modules, in log order */
static void link_items(struct history *h, struct tree_state *st)
{
	st->flow_head = new_index(h->nprocs);
	st->flow_next = new_index(h->nflows);
	st->mod_head = new_index(h->nprocs);
	st->mod_next = new_index(h->nmodules);
	for (uint32_t i = h->nflows; i-- > 0;) {
		int32_t p = h->flows[i].proc;
		st->flow_next[i] = st->flow_head[p];
		st->flow_head[p] = (int32_t)i;
	}
	for (uint32_t i = h->nmodules; i-- > 0;) {
		int32_t p = h->modules[i].proc;
		st->mod_next[i] = st->mod_head[p];
		st->mod_head[p] = (int32_t)i;
	}
}

struct emit {
	struct history *h;
	struct tree_state *st;
	enum out_format format;
	struct strbuf *out;
};

static void indent(struct strbuf *out, int depth, bool item)
{
	for (int i = 0; i < depth; i++)
		sb_adds(out, "   ");
	if (item)
		sb_adds(out, depth ? "   " : "  ");
}

static const struct proc_image *last_image(const struct history *h, int32_t p)
{
	return history_image_at(h, p, UINT64_MAX);
}

static void emit_table(struct emit *e, int32_t p, int depth, enum role role)
{
	struct strbuf *out = e->out;
	const struct history *h = e->h;
	const struct proc *pr = &h->procs[p];
	char t[TIME_TEXT_SIZE];
	indent(out, depth, false);
	if (depth)
		sb_adds(out, "\\_ ");
	if (role == ROLE_TARGET)
		sb_adds(out, "* ");
	const struct proc_image *im = last_image(h, p);
	const char *exe = im ? history_str(h, im->exe) : "";
	const char *cmd = im ? history_str(h, im->cmdline) : "";
	if (pr->pid >= 0)
		sb_addf(out, "%d ", pr->pid);
	sb_adds(out, *exe ? exe : "(exe unknown)");
	if (*cmd && strcmp(cmd, exe) != 0)
		sb_addf(out, "  (%s)", cmd);
	if (pr->uid >= 0)
		sb_addf(out, "  uid %lld", (long long)pr->uid);
	sb_addf(out, "  guid %s", history_guid(h, p));
	if (im && im->container_id)
		sb_addf(out, "  container %.12s", history_str(h, im->container_id));
	if (im && im->cgroup)
		sb_addf(out, "  cgroup %s", history_str(h, im->cgroup));
	if (pr->start_ns)
		sb_addf(out, "  %s %s", pr->origin == ORIGIN_EXISTING ? "running at" : "started",
			time_text(t, sizeof(t), pr->start_ns));
	if (pr->exit_ns)
		sb_addf(out, "  exited %s (%s)", time_text(t, sizeof(t), pr->exit_ns),
			history_str(h, pr->exit_result));
	else if (pr->gone_ns)
		sb_addf(out, "  gone before %s", time_text(t, sizeof(t), pr->gone_ns));
	sb_addc(out, '\n');
	if (pr->injects_in) {
		struct strbuf in = STRBUF_INIT;
		indent(&in, depth, true);
		report_injected_lines(out, h, p, UINT64_MAX, sb_str(&in));
		sb_free(&in);
	}

	/* what it ran, its flows and modules, merged in time order */
	uint32_t img = pr->first_image ? h->images[pr->first_image - 1].next : 0;
	int32_t fl = e->st->flow_head[p], md = e->st->mod_head[p];
	for (;;) {
		uint64_t ti = img ? h->images[img - 1].time_ns : UINT64_MAX;
		uint64_t tf = fl != PROC_NONE ? h->flows[fl].time_ns : UINT64_MAX;
		uint64_t tm = md != PROC_NONE ? h->modules[md].time_ns : UINT64_MAX;
		if (ti == UINT64_MAX && tf == UINT64_MAX && tm == UINT64_MAX)
			break;
		indent(out, depth, true);
		if (ti <= tf && ti <= tm) {
			const struct proc_image *x = &h->images[img - 1];
			sb_addf(out, "exec    %s  %s", time_text(t, sizeof(t), ti),
				history_str(h, x->exe));
			if (strcmp(history_str(h, x->cmdline), history_str(h, x->exe)) != 0)
				sb_addf(out, "  (%s)", history_str(h, x->cmdline));
			if (x->sha256)
				sb_addf(out, "  sha256 %s", history_str(h, x->sha256));
			img = x->next;
		} else if (tf <= tm) {
			struct flow_view v;
			flow_view_from_rec(h, &h->flows[fl], &v);
			sb_addf(out, "net     %s  ", time_text(t, sizeof(t), tf));
			flow_text(out, v.proto, v.src_ip, v.src_port, v.dst_ip, v.dst_port,
				  v.direction, v.result);
			fl = e->st->flow_next[fl];
		} else {
			sb_addf(out, "module  %s  %s", time_text(t, sizeof(t), tm),
				history_str(h, h->modules[md].path));
			md = e->st->mod_next[md];
		}
		sb_addc(out, '\n');
	}
}

static void json_flow_items(struct emit *e, int32_t p)
{
	struct strbuf *out = e->out;
	char t[TIME_TEXT_SIZE];
	sb_adds(out, ",\"flows\":[");
	for (int32_t fl = e->st->flow_head[p]; fl != PROC_NONE; fl = e->st->flow_next[fl]) {
		struct flow_view v;
		flow_view_from_rec(e->h, &e->h->flows[fl], &v);
		if (fl != e->st->flow_head[p])
			sb_addc(out, ',');
		sb_adds(out, "{\"time\":");
		json_str(out, time_text(t, sizeof(t), v.time_ns));
		sb_adds(out, ",\"proto\":");
		json_str_or_null(out, v.proto);
		sb_adds(out, ",\"src_ip\":");
		json_str_or_null(out, v.src_ip);
		sb_adds(out, ",\"src_port\":");
		json_int_or_null(out, v.src_port);
		sb_adds(out, ",\"dst_ip\":");
		json_str_or_null(out, v.dst_ip);
		sb_adds(out, ",\"dst_port\":");
		json_int_or_null(out, v.dst_port);
		sb_adds(out, ",\"direction\":");
		json_str_or_null(out, v.direction);
		sb_adds(out, ",\"result\":");
		json_str_or_null(out, v.result);
		sb_adds(out, ",\"community_id\":");
		json_str_or_null(out, v.community_id);
		sb_addc(out, '}');
	}
	sb_adds(out, "],\"modules\":[");
	for (int32_t md = e->st->mod_head[p]; md != PROC_NONE; md = e->st->mod_next[md]) {
		if (md != e->st->mod_head[p])
			sb_addc(out, ',');
		sb_adds(out, "{\"time\":");
		json_str(out, time_text(t, sizeof(t), e->h->modules[md].time_ns));
		sb_adds(out, ",\"path\":");
		json_str_or_null(out, history_str(e->h, e->h->modules[md].path));
		sb_addc(out, '}');
	}
	sb_addc(out, ']');
}

/* what a process was: the hash of what it ran, its cgroup and container */
static void json_image_facts(struct strbuf *out, const struct history *h,
			     const struct proc_image *im)
{
	sb_adds(out, ",\"sha256\":");
	json_str_or_null(out, im ? history_str(h, im->sha256) : NULL);
	sb_adds(out, ",\"cgroup\":");
	json_str_or_null(out, im ? history_str(h, im->cgroup) : NULL);
	sb_adds(out, ",\"container_id\":");
	json_str_or_null(out, im ? history_str(h, im->container_id) : NULL);
}

static void emit_json(struct emit *e, int32_t p, int depth, enum role role)
{
	struct strbuf *out = e->out;
	const struct history *h = e->h;
	const struct proc *pr = &h->procs[p];
	char t[TIME_TEXT_SIZE];
	const struct proc_image *im = last_image(h, p);
	sb_addf(out, "{\"depth\":%d,\"role\":\"%s\",\"pid\":", depth, role_names[role]);
	json_int_or_null(out, pr->pid);
	sb_adds(out, ",\"ppid\":");
	json_int_or_null(out, pr->ppid);
	sb_adds(out, ",\"guid\":");
	json_str_or_null(out, history_guid(h, p));
	sb_adds(out, ",\"parent_guid\":");
	json_str_or_null(out, intern_str(&h->guids, pr->parent_guid));
	sb_adds(out, ",\"uid\":");
	json_int_or_null(out, pr->uid);
	sb_adds(out, ",\"exe\":");
	json_str_or_null(out, im ? history_str(h, im->exe) : NULL);
	sb_adds(out, ",\"cmdline\":");
	json_str_or_null(out, im ? history_str(h, im->cmdline) : NULL);
	json_image_facts(out, h, im);
	sb_adds(out, ",\"start\":");
	json_str_or_null(out, time_text(t, sizeof(t), pr->start_ns));
	sb_adds(out, ",\"exit\":");
	json_str_or_null(out, time_text(t, sizeof(t), pr->exit_ns));
	sb_adds(out, ",\"exit_result\":");
	json_str_or_null(out, history_str(h, pr->exit_result));
	sb_adds(out, ",\"images\":[");
	for (uint32_t i = pr->first_image; i; i = h->images[i - 1].next) {
		const struct proc_image *x = &h->images[i - 1];
		if (i != pr->first_image)
			sb_addc(out, ',');
		sb_adds(out, "{\"time\":");
		json_str(out, time_text(t, sizeof(t), x->time_ns));
		sb_adds(out, ",\"exe\":");
		json_str_or_null(out, history_str(h, x->exe));
		sb_adds(out, ",\"cmdline\":");
		json_str_or_null(out, history_str(h, x->cmdline));
		json_image_facts(out, h, x);
		sb_addc(out, '}');
	}
	sb_addc(out, ']');
	report_injected_json(out, h, p, UINT64_MAX);
	json_flow_items(e, p);
	sb_adds(out, "}\n");
}

static const char *const csv_header =
    "depth,role,kind,time,pid,ppid,guid,parent_guid,uid,exe,cmdline,exit_result,path,proto,"
    "src_ip,src_port,dst_ip,dst_port,direction,result,community_id,sha256,cgroup,container_id,"
    "injected_by\n";

static void csv_row_start(struct emit *e, int32_t p, int depth, enum role role, const char *kind,
			  uint64_t t_ns)
{
	char t[TIME_TEXT_SIZE];
	const struct proc *pr = &e->h->procs[p];
	sb_addf(e->out, "%d,%s,%s,%s,", depth, role_names[role], kind,
		time_text(t, sizeof(t), t_ns));
	csv_int(e->out, pr->pid);
	sb_addc(e->out, ',');
	csv_int(e->out, pr->ppid);
	sb_addc(e->out, ',');
	csv_field(e->out, history_guid(e->h, p));
	sb_addc(e->out, ',');
	csv_field(e->out, intern_str(&e->h->guids, pr->parent_guid));
	sb_addc(e->out, ',');
	csv_int(e->out, pr->uid);
	sb_addc(e->out, ',');
}

static void emit_csv(struct emit *e, int32_t p, int depth, enum role role)
{
	const struct history *h = e->h;
	const struct proc *pr = &h->procs[p];
	struct strbuf *out = e->out;
	const struct proc_image *im = last_image(h, p);
	csv_row_start(e, p, depth, role, "process", pr->start_ns);
	csv_field(out, im ? history_str(h, im->exe) : "");
	sb_addc(out, ',');
	csv_field(out, im ? history_str(h, im->cmdline) : "");
	sb_addc(out, ',');
	csv_field(out, history_str(h, pr->exit_result));
	sb_adds(out, ",,,,,,,,,");
	report_image_csv(out, h, im);
	sb_addc(out, ',');
	report_injected_csv(out, h, p, UINT64_MAX);
	sb_addc(out, '\n');
	for (uint32_t i = pr->first_image; i; i = h->images[i - 1].next) {
		const struct proc_image *x = &h->images[i - 1];
		csv_row_start(e, p, depth, role, "image", x->time_ns);
		csv_field(out, history_str(h, x->exe));
		sb_addc(out, ',');
		csv_field(out, history_str(h, x->cmdline));
		sb_adds(out, ",,,,,,,,,,");
		report_image_csv(out, h, x);
		sb_adds(out, ",\n");
	}
	for (int32_t fl = e->st->flow_head[p]; fl != PROC_NONE; fl = e->st->flow_next[fl]) {
		struct flow_view v;
		flow_view_from_rec(h, &h->flows[fl], &v);
		csv_row_start(e, p, depth, role, "net", v.time_ns);
		sb_adds(out, ",,,,");
		csv_field(out, v.proto);
		sb_addc(out, ',');
		csv_field(out, v.src_ip);
		sb_addc(out, ',');
		csv_int(out, v.src_port);
		sb_addc(out, ',');
		csv_field(out, v.dst_ip);
		sb_addc(out, ',');
		csv_int(out, v.dst_port);
		sb_addc(out, ',');
		csv_field(out, v.direction);
		sb_addc(out, ',');
		csv_field(out, v.result);
		sb_addc(out, ',');
		csv_field(out, v.community_id);
		sb_adds(out, ",,,,\n");
	}
	for (int32_t md = e->st->mod_head[p]; md != PROC_NONE; md = e->st->mod_next[md]) {
		csv_row_start(e, p, depth, role, "module", h->modules[md].time_ns);
		sb_adds(out, ",,,");
		csv_field(out, history_str(h, h->modules[md].path));
		sb_adds(out, ",,,,,,,,,,,,\n");
	}
}

static void emit_one(struct emit *e, int32_t p, int depth, enum role role)
{
	if (e->format == OUT_JSON)
		emit_json(e, p, depth, role);
	else if (e->format == OUT_CSV)
		emit_csv(e, p, depth, role);
	else
		emit_table(e, p, depth, role);
	out_flush(e->out, stdout, false);
}

static bool emit_marked(int32_t p, int depth, void *arg)
{
	struct emit *e = arg;
	if (!e->st->role[p])
		return false; /* not shown, nor what is below it */
	emit_one(e, p, depth, (enum role)e->st->role[p]);
	return true;
}

/* root and the descendants that are marked, depth first */
static void emit_subtree(struct emit *e, int32_t root, int depth)
{
	emit_one(e, root, depth, (enum role)e->st->role[root]);
	history_walk_descendants(e->h, root, depth, emit_marked, e);
}

struct tree_options {
	bool all, modules;
};

static int tree_option(int c, const char *arg, void *ctx)
{
	struct tree_options *o = ctx;
	switch (c) {
	case OPT_ALL:
		o->all = true;
		return CLI_NEXT;
	case OPT_NO_MODULES:
		o->modules = false;
		return CLI_NEXT;
	default:
		return CLI_SHARED;
	}
}

int cmd_tree(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_LONG_PID,
	    CLI_LONG_AT,
	    CLI_LONG_GUID,
	    {"all", no_argument, NULL, OPT_ALL},
	    CLI_LONG_SINCE,
	    CLI_LONG_UNTIL,
	    {"no-modules", no_argument, NULL, OPT_NO_MODULES},
	    CLI_LONG_JSON,
	    CLI_LONG_CSV,
	    CLI_LONG_END,
	};
	struct cli cli;
	cli_init(&cli, "tree", tree_usage);
	struct tree_options opt = {.all = false, .modules = true};
	int rc = cli_parse(&cli, argc, argv, CLI_SHORT, longopts, tree_option, &opt);
	if (rc != CLI_NEXT)
		return rc;
	if ((rc = cli_no_operands(&cli)))
		return rc;
	if ((cli.pid >= 0) + (cli.guid != NULL) + opt.all != 1)
		return usage_error("tree", "say which process: --pid P, --guid G or --all");
	if (cli.at_ns && cli.pid < 0)
		return usage_error("tree", "--at goes with --pid");
	if ((rc = cli_check_window(&cli)))
		return rc;
	struct tree_state st = {
	    .since_ns = cli.since_ns, .until_ns = cli.until_ns, .modules = opt.modules};

	struct history h;
	if ((rc = cli_load(&cli, &h, 0, NULL, NULL)) < 0)
		return 1;
	int32_t target = PROC_NONE;
	if (!opt.all) {
		int pick = cli_pick(&cli, &h, &target);
		if (pick) {
			history_free(&h);
			return pick;
		}
	}
	st.role = calloc(h.nprocs ? h.nprocs : 1, 1);
	if (!st.role)
		fatal("out of memory");
	int32_t chain[HISTORY_MAX_DEPTH];
	int nchain = 0;
	if (opt.all) {
		for (uint32_t i = 0; i < h.nprocs; i++) {
			const struct proc *p = &h.procs[i];
			uint64_t start = p->start_ns ? p->start_ns : p->first_seen_ns;
			uint64_t end = p->exit_ns   ? p->exit_ns
				       : p->gone_ns ? p->gone_ns
						    : UINT64_MAX;
			if (start <= st.until_ns && end >= st.since_ns)
				st.role[i] = ROLE_MEMBER;
		}
	} else {
		st.role[target] = ROLE_TARGET;
		history_mark_descendants(&h, target, st.role, ROLE_DESCENDANT);
		nchain = history_ancestry(&h, target, chain, HISTORY_MAX_DEPTH);
		for (int i = 0; i < nchain; i++)
			st.role[chain[i]] = ROLE_ANCESTOR;
	}
	int rc2 =
	    history_scan(&h, cli.dir, LOG_EVENT_BIT(OM_EVENT_NET) | LOG_EVENT_BIT(OM_EVENT_MODLOAD),
			 false, tree_record, &st);
	if (rc2)
		rc = rc2;
	link_items(&h, &st);

	struct strbuf out = STRBUF_INIT;
	struct emit e = {.h = &h, .st = &st, .format = cli.format, .out = &out};
	if (cli.format == OUT_CSV)
		sb_adds(&out, csv_header);
	if (opt.all) {
		for (uint32_t i = 0; i < h.nprocs; i++) {
			if (!st.role[i])
				continue;
			int32_t parent = h.procs[i].parent;
			if (parent != PROC_NONE && st.role[parent])
				continue; /* shown under its parent */
			emit_subtree(&e, (int32_t)i, 0);
		}
	} else {
		/* ancestors from the oldest down, then the target's subtree */
		for (int i = nchain - 1; i >= 0; i--)
			emit_one(&e, chain[i], nchain - 1 - i, ROLE_ANCESTOR);
		emit_subtree(&e, target, nchain);
	}
	if (cli_flush(&cli, &out))
		rc = 1;
	sb_free(&out);
	free(st.role);
	free(st.flow_head);
	free(st.flow_next);
	free(st.mod_head);
	free(st.mod_next);
	history_free(&h);
	return rc;
}
