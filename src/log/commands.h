/* SPDX-License-Identifier: BSD-2-Clause */
/* The log's own subcommands; each returns 0 ok, 1 failure, 2 usage. */
#ifndef ONMITSU_LOG_COMMANDS_H
#define ONMITSU_LOG_COMMANDS_H

/* onmitsu keygen: make the first sealing key, print the verification key. */
int cmd_keygen(int argc, char **argv);
/* onmitsu verify: check chains, seals, seq and segment order. */
int cmd_verify(int argc, char **argv);

#endif
