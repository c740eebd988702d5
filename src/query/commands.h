/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The investigation subcommands (docs/QUERY.md). argv[0] is the subcommand's
 * name; every one takes --log-dir DIR (default /var/log/onmitsu) and -h/--help.
 * They return the exit status: 0 ok, 1 failure (unreadable log, corrupt
 * capture), 2 usage (bad option or filter value).
 */
#ifndef ONMITSU_QUERY_COMMANDS_H
#define ONMITSU_QUERY_COMMANDS_H

int cmd_cat(int argc, char **argv);
int cmd_who(int argc, char **argv);
int cmd_tree(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_correlate(int argc, char **argv);
int cmd_hunt(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
