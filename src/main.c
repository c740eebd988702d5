/* SPDX-License-Identifier: BSD-2-Clause */
/* onmitsu: one binary, subcommands (like git or bpftool). */
#include <stdio.h>
#include <string.h>

#include "log/commands.h"
#include "query/commands.h"
#include "record/commands.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("onmitsu %s\n", ONMITSU_VERSION);
	return 0;
}

static const struct subcommand subcommands[] = {
    {"record", cmd_record, "record processes, modules and flows into the log (root)"},
    {"cat", cmd_cat, "print every record of the log, all segments, in order"},
    {"who", cmd_who, "which process made this flow, and its ancestry"},
    {"tree", cmd_tree, "the process tree around a process, with flows and modules"},
    {"timeline", cmd_timeline, "what a process family did, in time order"},
    {"correlate", cmd_correlate, "attribute every flow of a packet capture to its process"},
    {"hunt", cmd_hunt, "rank what deserves a look: beacons, odd programs, web shells"},
    {"report", cmd_report, "one self-contained HTML page: process tree, flows, findings"},
    {"verify", cmd_verify, "check that the log was not altered (chain, seals, seq)"},
    {"keygen", cmd_keygen, "make a sealing key; print the verification key"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: onmitsu COMMAND [options]   (onmitsu COMMAND --help for more)\n\n"
		     "A Linux host recorder for network forensics: which process made this\n"
		     "connection, what started it, and what else its family did.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "\nLog format: docs/FORMAT.md. Exit status: 0 ok, 1 failure, 2 usage.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "onmitsu: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
