/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef ONMITSU_RECORD_COMMANDS_H
#define ONMITSU_RECORD_COMMANDS_H

/* onmitsu record: returns the exit status (0 ok, 1 failure, 2 usage). */
int cmd_record(int argc, char **argv);

#endif
