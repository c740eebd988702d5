/* SPDX-License-Identifier: BSD-2-Clause */
/* Hashing what ran: the identity checks, the cache, the hasher's thread and
 * the consumer's ordering of records that wait for their hash; the cgroup
 * path and container id parsers. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log/csv.h"
#include "log/schema.h"
#include "record/cgroup.h"
#include "record/consumer.h"
#include "record/filehash.h"
#include "record/hasher.h"
#include "test.h"
#include "util/hex.h"

/* ------------------------------------------------------------ container ids */

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int cid(const char *path, char out[CONTAINER_ID_LEN + 1])
{
	return container_id_from_cgroup(path, strlen(path), out);
}

TEST(container_id_schemes)
{
	char out[CONTAINER_ID_LEN + 1];
	CHECK_EQ_INT(cid("/system.slice/docker-" ID64 ".scope", out), 0);
	CHECK_EQ_STR(out, ID64);
	CHECK_EQ_INT(cid("/kubepods.slice/kubepods-besteffort.slice/"
			 "kubepods-besteffort-pod1234_5678.slice/cri-containerd-" ID64 ".scope",
			 out),
		     0);
	CHECK_EQ_STR(out, ID64);
	CHECK_EQ_INT(cid("/kubepods.slice/kubepods-pod1.slice/crio-" ID64 ".scope", out), 0);
	CHECK_EQ_STR(out, ID64);
	CHECK_EQ_INT(cid("/machine.slice/libpod-" ID64 ".scope", out), 0);
	CHECK_EQ_STR(out, ID64);
	CHECK_EQ_INT(cid("/docker/" ID64, out), 0);
	CHECK_EQ_STR(out, ID64);
	CHECK_EQ_INT(cid("/kubepods/besteffort/pod1234/" ID64, out), 0);
	CHECK_EQ_STR(out, ID64);
	/* a container with systemd inside: its own sub-cgroups are below the id */
	CHECK_EQ_INT(cid("/system.slice/docker-" ID64 ".scope/init.scope", out), 0);
	CHECK_EQ_STR(out, ID64);
}

TEST(container_id_none)
{
	char out[CONTAINER_ID_LEN + 1];
	CHECK_EQ_INT(cid("/", out), -1);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(cid("", out), -1);
	CHECK_EQ_INT(cid("/system.slice/ssh.service", out), -1);
	CHECK_EQ_INT(cid("/user.slice/user-1000.slice/session-3.scope", out), -1);
	/* the monitors' cgroups are not the container's */
	CHECK_EQ_INT(cid("/machine.slice/libpod-conmon-" ID64 ".scope", out), -1);
	CHECK_EQ_INT(cid("/system.slice/crio-conmon-" ID64 ".scope", out), -1);
	/* 63 or 65 digits, upper case, a stray character: not an id */
	CHECK_EQ_INT(cid("/system.slice/docker-" ID64 "0.scope", out), -1);
	CHECK_EQ_INT(
	    cid("/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", out),
	    -1);
	CHECK_EQ_INT(
	    cid("/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", out),
	    -1);
	CHECK_EQ_INT(
	    cid("/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", out),
	    -1);
	CHECK_EQ_INT(cid("/system.slice/podman-" ID64 ".scope", out), -1);
	/* bounded by the length, not by a NUL */
	static const char cut[] = "/docker/" ID64;
	CHECK_EQ_INT(container_id_from_cgroup(cut, sizeof(cut) - 2, out), -1);
}

TEST(cgroup_v2_line)
{
	static const char text[] = "12:pids:/x\n1:name=systemd:/init.scope\n0::/system.slice/a b\n";
	const char *p;
	size_t n;
	CHECK_EQ_INT(cgroup_v2_path(text, sizeof(text) - 1, &p, &n), 0);
	CHECK_EQ_INT(n, strlen("/system.slice/a b"));
	CHECK(memcmp(p, "/system.slice/a b", n) == 0);
	static const char last[] = "0::/";
	CHECK_EQ_INT(cgroup_v2_path(last, sizeof(last) - 1, &p, &n), 0);
	CHECK_EQ_INT(n, 1);
	static const char v1[] = "4:memory:/a\n1:cpu:/\n";
	CHECK_EQ_INT(cgroup_v2_path(v1, sizeof(v1) - 1, &p, &n), -1);
	/* "0::" only at a line's start */
	static const char mid[] = "4:memory:/0::/x\n";
	CHECK_EQ_INT(cgroup_v2_path(mid, sizeof(mid) - 1, &p, &n), -1);
}

/* ------------------------------------------------------------ identity */

static void stat_of(struct stat *st, long *f_type, const char *path)
{
	struct statfs sf;
	if (stat(path, st) != 0 || statfs(path, &sf) != 0)
		abort();
	*f_type = (long)sf.f_type;
}

static void id_of(struct om_file_id *id, const struct stat *st, long f_type)
{
	file_id_from_stat(id, st, f_type);
	id->flags = OM_FID_VALID; /* as the kernel gives it when nobody read the ctime */
}

TEST(identity_compare)
{
	char path[] = "/tmp/onmitsu-unit-hash-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, "abc", 3), 3);
	struct stat st;
	long ft;
	stat_of(&st, &ft, path);
	struct om_file_id id;
	id_of(&id, &st, ft);
	int64_t ctime_ns = st.st_ctim.tv_sec * 1000000000ll + st.st_ctim.tv_nsec;
	CHECK(file_is_same(&id, &st, ft));
	/* a ctime that may still hide a change made in the same clock tick */
	CHECK(!file_is_unchanged(&id, &st, ft, ctime_ns + 1000000));
	/* old enough, or read (multigrain) by the time of the event */
	CHECK(file_is_unchanged(&id, &st, ft, ctime_ns + HASH_CTIME_SETTLE_NS));
	id.flags |= OM_FID_CTIME_QUERIED;
	CHECK(file_is_unchanged(&id, &st, ft, ctime_ns + 1000000));

	struct om_file_id other = id;
	other.ino++;
	CHECK(!file_is_same(&other, &st, ft));
	other = id;
	other.size++;
	CHECK(!file_is_same(&other, &st, ft));
	other = id;
	other.dev ^= 1;
	CHECK(!file_is_same(&other, &st, ft));
	other.magic = OVERLAYFS_MAGIC; /* overlayfs shows the layer's device */
	CHECK(file_is_same(&other, &st, OVERLAYFS_MAGIC));
	other = id;
	other.magic ^= 1;
	CHECK(!file_is_same(&other, &st, ft));
	other = id;
	other.flags = 0; /* not filled in */
	CHECK(!file_is_same(&other, &st, ft));
	other = id;
	other.ctime_nsec ^= 1;
	CHECK(file_is_same(&other, &st, ft));
	CHECK(!file_is_unchanged(&other, &st, ft, ctime_ns + HASH_CTIME_SETTLE_NS));

	/* a write changes the ctime: no longer the file of the event */
	struct stat before = st;
	usleep(20000);
	CHECK_EQ_INT(write(fd, "d", 1), 1);
	stat_of(&st, &ft, path);
	CHECK(!stat_unchanged(&before, &st));
	CHECK(!file_is_same(&id, &st, ft)); /* size */
	close(fd);
	unlink(path);

	/* a directory is never the file */
	stat_of(&st, &ft, "/tmp");
	id_of(&id, &st, ft);
	CHECK(!file_is_same(&id, &st, ft));
	CHECK_EQ_INT(dev_to_kernel(makedev(8, 1)), (8 << 20) | 1);
	CHECK_EQ_INT(dev_to_kernel(makedev(259, 70000)), (259u << 20) | 70000);
}

TEST(hash_cache_bounded_lru)
{
	struct hash_cache c;
	CHECK_EQ_INT(hash_cache_init(&c, 8), 0);
	CHECK_EQ_INT(c.nsets * HASH_CACHE_WAYS, 8);
	uint8_t sha[32], got[32];
	struct om_file_key k[40];
	memset(k, 0, sizeof(k));
	for (int i = 0; i < 40; i++) {
		k[i].ino = (uint64_t)i + 1;
		k[i].dev = 7;
		memset(sha, i, 32);
		hash_cache_put(&c, &k[i], sha);
	}
	/* at most 8 kept, and the newest are */
	int kept = 0;
	for (int i = 0; i < 40; i++)
		kept += hash_cache_get(&c, &k[i], got);
	CHECK(kept <= 8 && kept >= 2);
	CHECK(hash_cache_get(&c, &k[39], got));
	memset(sha, 39, 32);
	CHECK(memcmp(got, sha, 32) == 0);
	/* each part of the key counts */
	struct om_file_key o = k[39];
	o.ctime_nsec = 1;
	CHECK(!hash_cache_get(&c, &o, got));
	o = k[39];
	o.generation = 5;
	CHECK(!hash_cache_get(&c, &o, got));
	o = k[39];
	o.size = 9;
	CHECK(!hash_cache_get(&c, &o, got));
	/* the least recently used of a set goes first */
	hash_cache_free(&c);
	CHECK_EQ_INT(hash_cache_init(&c, HASH_CACHE_WAYS), 0);
	CHECK_EQ_INT(c.nsets, 1);
	for (int i = 0; i < HASH_CACHE_WAYS; i++) {
		memset(sha, i, 32);
		hash_cache_put(&c, &k[i], sha);
	}
	CHECK(hash_cache_get(&c, &k[0], got)); /* 0 used again: 1 is the oldest */
	hash_cache_put(&c, &k[HASH_CACHE_WAYS], sha);
	CHECK(hash_cache_get(&c, &k[0], got));
	CHECK(!hash_cache_get(&c, &k[1], got));
	CHECK(hash_cache_get(&c, &k[HASH_CACHE_WAYS], got));
	hash_cache_free(&c);
}

/* ------------------------------------------------------------ the hasher */

static uint64_t fake_gen = 42;

static int exec_gen_fake(void *ctx, uint32_t pid, uint64_t *gen)
{
	(void)ctx;
	(void)pid;
	*gen = fake_gen;
	return 0;
}

static int known_calls;
static void known_fake(void *ctx, const struct om_file_key *k)
{
	(void)ctx;
	(void)k;
	known_calls++;
}

static struct hasher *new_hasher(uint64_t max)
{
	struct hasher_opts o = {
	    .max_size = max,
	    .proc_root = "/proc",
	    .exec_gen = exec_gen_fake,
	    .known = known_fake,
	    .running_exe_unwritable = hasher_probe_running_exe_unwritable(),
	};
	return hasher_new(&o);
}

/* the result of a request, waiting for it (bounded) */
static enum hash_err result_of(struct hasher *h, const struct hash_req *q, char sha[HASH_SHA_HEX])
{
	enum hash_err err = HASH_OK;
	struct hash_wait *w = hasher_request(h, q, sha, &err);
	for (int i = 0; w && i < 1000; i++) {
		if (hasher_result(h, w, sha, &err))
			return err;
		hasher_sleep(h, 10);
	}
	if (w) {
		hasher_release(h, w);
		return HASH_E_STOPPED;
	}
	return err;
}

static void sha_file(const char *path, char hex[HASH_SHA_HEX])
{
	int fd = open(path, O_RDONLY);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(c, buf, (size_t)n);
	close(fd);
	uint8_t md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	hex_encode(hex, md, 32);
}

/* this very program, as the kernel would identify it at exec */
static void self_exe_req(struct hash_req *q)
{
	memset(q, 0, sizeof(*q));
	struct stat st;
	long ft;
	stat_of(&st, &ft, "/proc/self/exe");
	id_of(&q->id, &st, ft);
	q->kind = HASH_REQ_EXEC;
	q->pid = (uint32_t)getpid();
	q->gen = 42;
	q->event_unix_ns = st.st_ctim.tv_sec * 1000000000ll; /* too close: ctime not enough */
	q->fd = -1;
}

TEST(hasher_exec_of_self_then_cached)
{
	struct hasher *h = new_hasher(HASH_DEFAULT_MAX);
	CHECK(h);
	char want[HASH_SHA_HEX], sha[HASH_SHA_HEX];
	sha_file("/proc/self/exe", want);
	struct hash_req q;
	self_exe_req(&q);
	known_calls = 0;
	fake_gen = 42; /* the same image: the exe's content is what ran */
	if (!hasher_probe_running_exe_unwritable())
		q.event_unix_ns += HASH_CTIME_SETTLE_NS * 1000; /* then by its ctime */
	CHECK_EQ_INT(result_of(h, &q, sha), HASH_OK);
	CHECK_EQ_STR(sha, want);
	CHECK_EQ_INT(known_calls, 1);
	/* the second time from the cache, without a wait */
	enum hash_err err = HASH_E_BUSY;
	CHECK(hasher_request(h, &q, sha, &err) == NULL);
	CHECK_EQ_INT(err, HASH_OK);
	CHECK_EQ_STR(sha, want);
	struct hasher_stats s;
	hasher_get_stats(h, &s);
	CHECK_EQ_INT(s.hashed, 1);
	CHECK_EQ_INT(s.cache_hits, 1);
	hasher_free(h);
}

TEST(hasher_refuses_what_it_cannot_prove)
{
	struct hasher *h = new_hasher(HASH_DEFAULT_MAX);
	CHECK(h);
	char sha[HASH_SHA_HEX];
	struct hash_req q;
	self_exe_req(&q);
	/* another image since (another exec), and a ctime too recent to prove
	 * the file unchanged: no hash */
	fake_gen = 43;
	CHECK_EQ_INT(result_of(h, &q, sha), HASH_E_CHANGED);
	CHECK_EQ_STR(sha, "");
	/* not the kernel's inode */
	self_exe_req(&q);
	q.id.ino++;
	fake_gen = 42;
	CHECK_EQ_INT(result_of(h, &q, sha), HASH_E_CHANGED);
	/* a process that is gone, and no name to fall back on */
	self_exe_req(&q);
	q.pid = 0x7ffffff0;
	CHECK_EQ_INT(result_of(h, &q, sha), HASH_E_EXITED);
	/* larger than the cap: said at once */
	self_exe_req(&q);
	q.id.size = HASH_DEFAULT_MAX + 1;
	enum hash_err err = HASH_OK;
	CHECK(hasher_request(h, &q, sha, &err) == NULL);
	CHECK_EQ_INT(err, HASH_E_TOO_BIG);
	CHECK_EQ_STR(hash_err_name(err), "too_big");
	hasher_free(h);
}

TEST(hasher_module_by_path_and_change_while_open)
{
	struct hasher *h = new_hasher(HASH_DEFAULT_MAX);
	CHECK(h);
	char path[] = "/tmp/onmitsu-unit-mod-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	static char blob[3 * HASH_CHUNK + 17];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (char)(i * 7);
	CHECK_EQ_INT(write(fd, blob, sizeof(blob)), (long)sizeof(blob));
	close(fd);
	char want[HASH_SHA_HEX], sha[HASH_SHA_HEX];
	sha_file(path, want);
	struct stat st;
	long ft;
	stat_of(&st, &ft, path);
	struct hash_req q = {.kind = HASH_REQ_MODULE, .pid = 0x7ffffff0, .path = path, .fd = -1};
	q.path_len = strlen(path);
	id_of(&q.id, &st, ft);
	q.id.flags |= OM_FID_CTIME_QUERIED; /* the loader's fstat read it */
	q.event_unix_ns = st.st_ctim.tv_sec * 1000000000ll + st.st_ctim.tv_nsec;
	CHECK_EQ_INT(result_of(h, &q, sha), HASH_OK);
	CHECK_EQ_STR(sha, want);
	struct hasher_stats s;
	hasher_get_stats(h, &s);
	CHECK_EQ_INT(s.bytes, sizeof(blob));

	/* rewritten (same size) after the event: the path no longer holds it */
	fd = open(path, O_WRONLY);
	CHECK_EQ_INT(pwrite(fd, "x", 1, 0), 1);
	close(fd);
	struct om_file_id old = q.id;
	q.id.generation = 1; /* not the cached identity */
	CHECK_EQ_INT(result_of(h, &q, sha), HASH_E_CHANGED);
	CHECK_EQ_STR(sha, "");
	q.id = old;
	unlink(path);
	hasher_free(h);
}

/* ------------------------------------------------------------ the consumer */

struct captured {
	struct strbuf lines;
	int n;
};

static void capture(void *ctx, struct om_record *r)
{
	struct captured *c = ctx;
	csv_encode(&c->lines, r);
	c->n++;
}

static const uint8_t boot[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static char *field(struct captured *cap, int line, int col)
{
	char *copy = strdup(sb_str(&cap->lines));
	char *p = copy;
	for (int i = 0; i < line; i++)
		p = strchr(p, '\n') + 1;
	char *end = strchr(p, '\n');
	char *fields[40];
	int n = csv_split(p, (size_t)(end - p), fields, 40);
	char *r = strdup(n > col ? fields[col] : "(none)");
	free(copy);
	return r;
}

#define CHECK_FIELD(cap, line, col, want)                                                          \
	do {                                                                                       \
		char *f_ = field(cap, line, col);                                                  \
		int ok_ = strcmp(f_, want) == 0;                                                   \
		if (!ok_)                                                                          \
			fprintf(stderr, "  line %d col %d: got \"%s\" want \"%s\"\n", line, col,   \
				f_, want);                                                         \
		free(f_);                                                                          \
		CHECK(ok_);                                                                        \
	} while (0)

/* an EXEC of this program with its identity and a cgroup */
static size_t exec_sample(uint8_t *buf, const struct hash_req *q, const char *cgroup)
{
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	memset(e, 0, sizeof(*e));
	static const char exe[] = "/nonexistent/unit-tests";
	static const char args[] = "unit-tests\0";
	e->h.kind = OM_K_EXEC;
	e->h.ts_ns = 5000000000ull;
	e->h.pid = e->h.tid = q->pid;
	e->h.start_ns = 2500000000ull;
	e->ppid = 1;
	e->exe_len = sizeof(exe) - 1;
	e->args_len = sizeof(args) - 1;
	e->cgroup_len = (uint16_t)strlen(cgroup);
	e->exec_gen = q->gen;
	e->exe_id = q->id;
	uint8_t *p = buf + sizeof(*e);
	memcpy(p, exe, e->exe_len);
	p += e->exe_len;
	memcpy(p, args, e->args_len);
	p += e->args_len;
	memcpy(p, cgroup, e->cgroup_len);
	p += e->cgroup_len;
	e->h.size = (uint32_t)(p - buf);
	return e->h.size;
}

static size_t exit_sample(uint8_t *buf, uint32_t pid)
{
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	memset(e, 0, sizeof(*e));
	e->h.kind = OM_K_EXIT;
	e->h.size = sizeof(*e);
	e->h.ts_ns = 6000000000ull;
	e->h.pid = e->h.tid = pid;
	e->h.start_ns = 2500000000ull;
	return sizeof(*e);
}

TEST(consumer_exec_hash_cgroup_in_order)
{
	struct consumer c;
	struct captured cap;
	memset(&cap, 0, sizeof(cap));
	consumer_init(&c, boot, capture, &cap);
	c.hasher = new_hasher(HASH_DEFAULT_MAX);
	CHECK(c.hasher);
	fake_gen = 42;
	struct hash_req q;
	self_exe_req(&q);
	char want[HASH_SHA_HEX];
	sha_file("/proc/self/exe", want);
	uint8_t buf[1024];
	size_t n = exec_sample(buf, &q, "/system.slice/docker-" ID64 ".scope");
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	/* the EXIT after it waits for the EXEC's hash: records keep their order */
	n = exit_sample(buf, q.pid);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	consumer_finish(&c, 10000);
	CHECK_EQ_INT(cap.n, 2);
	CHECK_FIELD(&cap, 0, COL_EVENT, "EXEC");
	CHECK_FIELD(&cap, 0, COL_SHA256, want);
	CHECK_FIELD(&cap, 0, COL_CGROUP, "/system.slice/docker-" ID64 ".scope");
	CHECK_FIELD(&cap, 0, COL_CONTAINER_ID, ID64);
	CHECK_FIELD(&cap, 0, COL_DETAIL, "");
	CHECK_FIELD(&cap, 1, COL_EVENT, "EXIT");

	/* a file it cannot prove: no hash, the reason in detail, still in order */
	sb_reset(&cap.lines);
	cap.n = 0;
	self_exe_req(&q);
	q.id.ino++;
	n = exec_sample(buf, &q, "/");
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	n = exit_sample(buf, q.pid);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	consumer_finish(&c, 10000);
	CHECK_EQ_INT(cap.n, 2);
	CHECK_FIELD(&cap, 0, COL_SHA256, "");
	CHECK_FIELD(&cap, 0, COL_DETAIL, "hash_error=changed");
	CHECK_FIELD(&cap, 0, COL_CGROUP, "/");
	CHECK_FIELD(&cap, 0, COL_CONTAINER_ID, "");
	CHECK_FIELD(&cap, 1, COL_EVENT, "EXIT");
	CHECK_EQ_INT(c.hash_errors, 1);
	consumer_free(&c);
	hasher_free(c.hasher);
	sb_free(&cap.lines);
}

TEST(consumer_exec_cgroup_length_checked)
{
	struct consumer c;
	struct captured cap;
	memset(&cap, 0, sizeof(cap));
	consumer_init(&c, boot, capture, &cap);
	struct hash_req q;
	self_exe_req(&q);
	static uint8_t buf[2 * OM_PATH_MAX];
	size_t n = exec_sample(buf, &q, "/a");
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	e->cgroup_len = 3; /* claims more than the sample holds */
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	/* longer than the limit, though the sample holds it */
	static char big[OM_PATH_MAX + 2];
	memset(big, 'a', OM_PATH_MAX + 1);
	big[0] = '/';
	n = exec_sample(buf, &q, big);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	big[OM_PATH_MAX] = '\0';
	n = exec_sample(buf, &q, big);
	CHECK_EQ_INT(consumer_sample(&c, buf, n), 0);
	CHECK_EQ_INT(cap.n, 1);
	consumer_free(&c);
	sb_free(&cap.lines);
}

/* EXEC with the standard descriptors after the cgroup path (OM_F_STDIO) */
TEST(consumer_exec_stdio_detail)
{
	struct consumer c;
	struct captured cap;
	memset(&cap, 0, sizeof(cap));
	consumer_init(&c, boot, capture, &cap);
	struct hash_req q;
	self_exe_req(&q);
	uint8_t buf[1024];
	struct om_stdio st;
	memset(&st, 0, sizeof(st));
	st.fd[0] = (struct om_stdio_fd){.type = OM_FD_SOCKET, .family = AF_INET, .protocol = 6};
	st.fd[1] = st.fd[0];
	st.fd[2] = (struct om_stdio_fd){.type = OM_FD_PIPE};
	st.inet_fd = 0;
	st.family = AF_INET;
	st.protocol = 6;
	st.lport = 40000;
	st.rport = 4444;
	memcpy(st.laddr, "\xc0\x00\x02\x01", 4);
	memcpy(st.raddr, "\xc6\x33\x64\x07", 4);
	size_t n = exec_sample(buf, &q, "/");
	struct om_ev_proc *e = (struct om_ev_proc *)buf;
	/* the flag without the bytes, and the bytes without the flag: refused */
	e->h.flags |= OM_F_STDIO;
	CHECK_EQ_INT(consumer_sample(&c, buf, n), -1);
	memcpy(buf + n, &st, sizeof(st));
	e->h.flags &= ~OM_F_STDIO;
	e->h.size = (uint32_t)(n + sizeof(st));
	CHECK_EQ_INT(consumer_sample(&c, buf, n + sizeof(st)), -1);
	e->h.flags |= OM_F_STDIO;
	CHECK_EQ_INT(consumer_sample(&c, buf, n + sizeof(st)), 0);

	/* IPv6, an unconnected socket, unix, a terminal */
	memset(&st, 0, sizeof(st));
	st.fd[0] = (struct om_stdio_fd){.type = OM_FD_SOCKET, .family = AF_UNIX};
	st.fd[1] = (struct om_stdio_fd){.type = OM_FD_SOCKET, .family = AF_INET6, .protocol = 17};
	st.fd[2] = (struct om_stdio_fd){.type = OM_FD_TTY};
	st.inet_fd = 1;
	st.family = AF_INET6;
	st.protocol = 17;
	st.lport = 53;
	st.rport = 0; /* not connected: no peer */
	memcpy(st.laddr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	n = exec_sample(buf, &q, "/");
	memcpy(buf + n, &st, sizeof(st));
	e->h.flags |= OM_F_STDIO;
	e->h.size = (uint32_t)(n + sizeof(st));
	CHECK_EQ_INT(consumer_sample(&c, buf, n + sizeof(st)), 0);

	/* damaged values: named "other", no stdio_* */
	memset(&st, 0, sizeof(st));
	st.fd[0] = (struct om_stdio_fd){.type = 200};
	st.fd[1] = (struct om_stdio_fd){.type = OM_FD_CLOSED};
	st.fd[2] = (struct om_stdio_fd){.type = OM_FD_SOCKET, .family = 16 /* netlink */};
	st.inet_fd = 7;
	n = exec_sample(buf, &q, "/");
	memcpy(buf + n, &st, sizeof(st));
	e->h.flags |= OM_F_STDIO;
	e->h.size = (uint32_t)(n + sizeof(st));
	CHECK_EQ_INT(consumer_sample(&c, buf, n + sizeof(st)), 0);
	consumer_finish(&c, 10000);
	CHECK_EQ_INT(cap.n, 3);
	CHECK_FIELD(&cap, 0, COL_DETAIL,
		    "stdin=tcp stdout=tcp stderr=pipe stdio_proto=tcp stdio_peer=198.51.100.7:4444 "
		    "stdio_local=192.0.2.1:40000");
	CHECK_FIELD(
	    &cap, 1, COL_DETAIL,
	    "stdin=unix stdout=udp stderr=tty stdio_proto=udp stdio_local=[2001:db8::1]:53");
	CHECK_FIELD(&cap, 2, COL_DETAIL, "stdin=other stdout=closed stderr=socket");
	consumer_free(&c);
	sb_free(&cap.lines);
}
