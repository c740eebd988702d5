/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A process's cgroup (v2) and the container it names: the cgroup column and
 * container_id (docs/FORMAT.md). EXEC takes the path in the kernel; EXISTING
 * reads /proc/PID/cgroup.
 */
#ifndef ONMITSU_CGROUP_H
#define ONMITSU_CGROUP_H

#include <stddef.h>

#define CONTAINER_ID_LEN 64 /* hex digits of a Docker, containerd, CRI-O or podman id */

/*
 * The container id a cgroup path names, into out (CONTAINER_ID_LEN + 1
 * bytes): the last component that is, once a runtime's prefix ("docker-",
 * "cri-containerd-", "crio-", "libpod-", "containerd-") and systemd's
 * ".scope" are taken off, exactly 64 lowercase hex digits; so
 * /system.slice/docker-ID.scope, .../cri-containerd-ID.scope,
 * .../crio-ID.scope, /machine.slice/libpod-ID.scope, /docker/ID and
 * /kubepods/.../ID. A monitor's cgroup (libpod-conmon-ID.scope,
 * crio-conmon-ID.scope) names none. 0, or -1 when none.
 */
int container_id_from_cgroup(const char *path, size_t len, char out[CONTAINER_ID_LEN + 1]);

/*
 * The v2 path in the text of /proc/PID/cgroup (its "0::" line), as a pointer
 * into text and its length. 0, or -1 when there is none (cgroup v1 only).
 */
int cgroup_v2_path(const char *text, size_t len, const char **path, size_t *path_len);

#endif
