/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/cli.h"

#include <stdbool.h>
#include <string.h>

#include "query/filter.h"
#include "util/log.h"
#include "util/time.h"

void cli_init(struct cli *cli, const char *cmd, void (*usage)(void))
{
	*cli = (struct cli){
	    .cmd = cmd,
	    .usage = usage,
	    .dir = DEFAULT_LOG_DIR,
	    .format = OUT_TABLE,
	    .now_ns = now_unix_ns(),
	    .since_ns = 0,
	    .until_ns = UINT64_MAX,
	    .pid = -1,
	};
}

/* getopt_long made ready for a fresh parse (commands run more than once in
 * the unit tests) */
static void options_reset(void)
{
	optind = 0; /* glibc: 0 re-initialises getopt completely */
	opterr = 0;
}

/* the getopt_long error for the option at argv[optind - 1]; returns 2 */
static int option_error(const char *cmd, int c, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";
	bool is_long = strncmp(opt, "--", 2) == 0;
	if (c == ':') {
		if (!is_long && optopt)
			return usage_error(cmd, "option '-%c' needs a value", optopt);
		return usage_error(cmd, "option '%s' needs a value", opt);
	}
	if (!is_long && optopt)
		return usage_error(cmd, "unknown option '-%c'", optopt);
	return usage_error(cmd, "unknown option '%s'", opt);
}

static int time_option(struct cli *cli, const char *name, uint64_t *out)
{
	char err[512];
	if (parse_time_arg(optarg, cli->now_ns, out, err, sizeof(err)) < 0)
		return usage_error(cli->cmd, "%s %s", name, err);
	return CLI_NEXT;
}

static int shared_option(struct cli *cli, int c, char **argv)
{
	switch (c) {
	case CLI_OPT_JSON:
		cli->format = OUT_JSON;
		return CLI_NEXT;
	case CLI_OPT_CSV:
		cli->format = OUT_CSV;
		return CLI_NEXT;
	case CLI_OPT_SINCE:
		return time_option(cli, "--since", &cli->since_ns);
	case CLI_OPT_UNTIL:
		return time_option(cli, "--until", &cli->until_ns);
	case CLI_OPT_AT:
		return time_option(cli, "--at", &cli->at_ns);
	case CLI_OPT_PID:
		cli->pid = log_field_num(optarg);
		if (cli->pid < 0 || cli->pid > INT32_MAX)
			return usage_error(
			    cli->cmd, "--pid \"%s\" is not a process id: use a number like 4242",
			    optarg);
		return CLI_NEXT;
	case CLI_OPT_GUID:
		cli->guid = optarg;
		return CLI_NEXT;
	case 'd':
		cli->dir = optarg;
		return CLI_NEXT;
	case 'h':
		cli->usage();
		return 0;
	default:
		return option_error(cli->cmd, c, argv);
	}
}

int cli_parse(struct cli *cli, int argc, char **argv, const char *shortopts,
	      const struct option *longopts, cli_option_fn own, void *ctx)
{
	int c;
	options_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int rc = own ? own(c, optarg, ctx) : CLI_SHARED;
		if (rc == CLI_SHARED)
			rc = shared_option(cli, c, argv);
		if (rc != CLI_NEXT)
			return rc;
	}
	cli->operands = argv + optind;
	cli->noperands = argc - optind;
	return CLI_NEXT;
}

int cli_no_operands(const struct cli *cli)
{
	if (cli->noperands)
		return usage_error(cli->cmd, "unexpected argument '%s'", cli->operands[0]);
	return 0;
}

int cli_check_window(const struct cli *cli)
{
	if (cli->since_ns > cli->until_ns)
		return usage_error(cli->cmd, "--since is after --until: nothing can match");
	return 0;
}

int cli_pick(const struct cli *cli, const struct history *h, int32_t *target)
{
	struct strbuf msg = STRBUF_INIT;
	int pick = history_pick(h, cli->pid, cli->at_ns, cli->guid, target, &msg);
	if (pick)
		log_warnx("%s: %s", cli->cmd, sb_str(&msg));
	sb_free(&msg);
	return pick == 0 ? 0 : pick == 2 ? 2 : 1;
}

int cli_load(const struct cli *cli, struct history *h, uint32_t extra_events, history_record_fn fn,
	     void *arg)
{
	history_init(h);
	int rc = history_load(h, cli->dir, extra_events, fn, arg);
	if (rc && !h->records) {
		history_free(h);
		return -1;
	}
	return rc;
}

int cli_flush(const struct cli *cli, struct strbuf *sb)
{
	if (out_flush(sb, stdout, true) < 0) {
		log_warn("%s: writing the output failed", cli->cmd);
		return 1;
	}
	return 0;
}

void follow_signals_install(struct follow_signals *s, void (*handler)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler; /* no SA_RESTART: the wait ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &s->old_int);
	sigaction(SIGTERM, &sa, &s->old_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &s->old_pipe);
}

void follow_signals_restore(const struct follow_signals *s)
{
	sigaction(SIGINT, &s->old_int, NULL);
	sigaction(SIGTERM, &s->old_term, NULL);
	sigaction(SIGPIPE, &s->old_pipe, NULL);
}
