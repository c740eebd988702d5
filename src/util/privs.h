/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef ONMITSU_PRIVS_H
#define ONMITSU_PRIVS_H

/*
 * Give up every capability (effective, permitted, inheritable, ambient and
 * the bounding set) and set no_new_privs. The recorder calls it once its
 * hooks are attached and the /proc snapshot is taken: what remains (reading
 * the ring buffer, formatting, writing the log it already opened) needs no
 * privilege, so a bug in that code cannot be turned into root's powers.
 * 0, or -1 with errno.
 */
int drop_all_capabilities(void);

#endif
