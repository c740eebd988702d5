/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/cgroup.h"

#include <string.h>

#include "util/hex.h"

static int is_id(const char *s, size_t n)
{
	return n == CONTAINER_ID_LEN && hex_is_lower(s, n);
}

/* one component: [prefix]ID[.scope] */
static int component_id(const char *s, size_t n, char out[CONTAINER_ID_LEN + 1])
{
	static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-",
					       "libpod-", "containerd-",     ""};
	static const char scope[] = ".scope";
	size_t sl = sizeof(scope) - 1;
	if (n > sl && memcmp(s + n - sl, scope, sl) == 0)
		n -= sl;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);
		if (n >= pl && memcmp(s, prefixes[i], pl) == 0 && is_id(s + pl, n - pl)) {
			memcpy(out, s + pl, CONTAINER_ID_LEN);
			out[CONTAINER_ID_LEN] = '\0';
			return 0;
		}
	}
	return -1;
}

int container_id_from_cgroup(const char *path, size_t len, char out[CONTAINER_ID_LEN + 1])
{
	size_t end = len;
	/* from the last component up: a container's own sub-cgroups (init.scope
	 * under a container with systemd inside) are below its id */
	while (end > 0) {
		size_t start = end;
		while (start > 0 && path[start - 1] != '/')
			start--;
		if (end > start && component_id(path + start, end - start, out) == 0)
			return 0;
		if (start == 0)
			break;
		end = start - 1;
	}
	out[0] = '\0';
	return -1;
}

int cgroup_v2_path(const char *text, size_t len, const char **path, size_t *path_len)
{
	size_t i = 0;
	while (i < len) {
		size_t eol = i;
		while (eol < len && text[eol] != '\n')
			eol++;
		if (eol - i >= 3 && memcmp(text + i, "0::", 3) == 0) {
			*path = text + i + 3;
			*path_len = eol - i - 3;
			return 0;
		}
		i = eol + 1;
	}
	return -1;
}
