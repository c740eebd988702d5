/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpora that are made by program (`make fuzz-seeds`):
 * logs written by the real writer (log/writer.h), CSV and JSON Lines,
 * rotated, compressed and sealed with the fuzz key (fuzz_key.h), packed for
 * the verify harness; small captures of each link type, pcap and pcapng;
 * and a few values for the escaping and argument harnesses. Deterministic:
 * fixed times, fixed key, so regenerating changes no file.
 *     seeds OUTDIR   (OUTDIR/<harness>/<name>)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_key.h"
#include "log/seal.h"
#include "log/segment.h"
#include "log/writer.h"
#include "util/strbuf.h"

#define T0 1795633200000000000ull /* 2026-11-25T19:00:00Z */
#define MS 1000000ull

static const char *outdir;

static void put(const char *harness, const char *name, const void *p, size_t n)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/%s", outdir, harness);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
	fuzz_write_file(dir, name, p, n);
}

static void read_all(const char *path, struct strbuf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(out, buf, n);
	fclose(f);
}

/* ---- logs ---- */

static void rec_exec(struct log_writer *w, uint64_t t, int i)
{
	static const char args[][48] = {
	    "/bin/sh\0-c\0echo \"a, b\"; ls\0",
	    "curl\0-o\0/tmp/x y\0http://203.0.113.7/\xe2\x80\xae\x01\0",
	    "python3\0\0--\0\xff\xfe\0",
	};
	static const size_t args_len[] = {29, 43, 14};
	struct om_record r;
	om_record_init(&r, OM_EVENT_EXEC);
	r.time_ns = t;
	r.pid = 4200 + i;
	r.ppid = 1;
	r.uid = 1000;
	r.guid = "6f1c1068-0000-4000-8000-000000001068";
	r.parent_guid = "6f1c0001-0000-4000-8000-000000000001";
	r.exe = i % 3 == 1 ? "/usr/bin/curl" : "/bin/\"odd\",\xc3\xa9\n";
	r.exe_len = strlen(r.exe);
	r.args = args[i % 3];
	r.args_len = args_len[i % 3];
	r.has_cmdline = true;
	log_writer_append(w, &r);
}

static void rec_net(struct log_writer *w, uint64_t t, int i)
{
	struct om_record r;
	om_record_init(&r, OM_EVENT_NET);
	r.time_ns = t;
	r.pid = 4200 + i;
	r.uid = 1000;
	r.guid = "6f1c1068-0000-4000-8000-000000001068";
	r.exe = "/usr/bin/curl";
	r.exe_len = strlen(r.exe);
	r.proto = i % 2 ? "tcp" : "udp";
	if (i % 3 == 2) {
		r.src.family = r.dst.family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::10", r.src.addr);
		inet_pton(AF_INET6, "2001:db8:1::50", r.dst.addr);
	} else {
		r.src.family = r.dst.family = AF_INET;
		inet_pton(AF_INET, "192.0.2.10", r.src.addr);
		inet_pton(AF_INET, "203.0.113.7", r.dst.addr);
	}
	r.src_port = 40000 + i;
	r.dst_port = 443;
	r.direction = i % 2 ? "out" : "in";
	r.result = i % 4 == 3 ? "error:ECONNREFUSED" : "ok";
	r.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
	log_writer_append(w, &r);
}

static void rec_simple(struct log_writer *w, enum om_event e, uint64_t t, const char *detail)
{
	struct om_record r;
	om_record_init(&r, e);
	r.time_ns = t;
	r.detail = detail;
	if (e == OM_EVENT_EXIT || e == OM_EVENT_FORK) {
		r.pid = 4300;
		r.ppid = 4200;
		r.guid = "6f1c10cc-0000-4000-8000-0000000010cc";
	}
	if (e == OM_EVENT_MODLOAD) {
		r.path = "/lib/modules/x/\x01rootkit.ko";
		r.path_len = strlen(r.path);
	}
	log_writer_append(w, &r);
}

/* A log in a fresh directory: START, processes, connections, seals when
 * keyfile, STOP; rotated every rotate bytes (0: never). */
static void make_log(const char *dir, enum log_format fmt, uint64_t rotate, const char *keyfile,
		     int records)
{
	struct log_writer_opts o;
	log_writer_opts_default(&o);
	o.format = fmt;
	o.rotate_size = rotate;
	o.rotate_age = 0;
	o.keep_size = 0;
	o.keep_age = 0;
	o.compress_level = 0; /* the harness compresses what is named .zst */
	o.seal_key = keyfile;
	o.seal_interval = 1;
	o.host.name = "desk";
	o.host.id = "0f0e0d0c0b0a09080706050403020100";
	struct log_writer w;
	if (log_writer_open(&w, dir, &o) != 0)
		exit(1);
	uint64_t t = T0;
	struct strbuf d = STRBUF_INIT;
	sb_adds(&d, "version=0.1.0 hooks=process,net,module hostname=desk");
	log_writer_start_detail(&w, &d, t);
	rec_simple(&w, OM_EVENT_START, t, sb_str(&d));
	for (int i = 0; i < records; i++) {
		t += 250 * MS;
		switch (i % 5) {
		case 0:
			rec_exec(&w, t, i);
			break;
		case 1:
		case 3:
			rec_net(&w, t, i);
			break;
		case 2:
			rec_simple(&w, i % 10 == 2 ? OM_EVENT_FORK : OM_EVENT_EXIT, t,
				   "exit_code=0");
			break;
		default:
			rec_simple(&w, i % 10 == 4 ? OM_EVENT_MODLOAD : OM_EVENT_LOST, t,
				   "lost=3 source=ringbuf");
		}
		log_writer_tick(&w, t);
	}
	sb_reset(&d);
	sb_adds(&d, "reason=signal");
	log_writer_stop_detail(&w, &d);
	t += 250 * MS;
	rec_simple(&w, OM_EVENT_STOP, t, sb_str(&d));
	log_writer_close(&w);
	sb_free(&d);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory packed as the verify harness reads it; names in zst get
 * ".zst" (the harness compresses them). */
static void pack_dir(const char *dir, struct strbuf *out, bool zst_closed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[64];
	size_t n = 0;
	while (d && (e = readdir(d)) != NULL && n < 64)
		if (strncmp(e->d_name, "onmitsu", 7) == 0 && !strstr(e->d_name, ".lock"))
			names[n++] = strdup(e->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	/* closed segments first (by name), then the active one */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool active = strchr(names[i], '-') == NULL;
			if (active != (pass == 1))
				continue;
			char path[1024];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			sb_addf(out, "==> %s%s <==\n", names[i],
				!active && zst_closed ? ".zst" : "");
			read_all(path, out);
		}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

static void log_seeds(void)
{
	char tmpl[] = "/tmp/onmitsu-seeds.XXXXXX";
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		exit(1);
	}
	char key[600], dir[600], path[1024];
	snprintf(key, sizeof(key), "%s/seal.key", tmpl);
	struct strbuf sb = STRBUF_INIT;
	static const struct {
		const char *name;
		enum log_format fmt;
		uint64_t rotate;
		bool seal, zst;
		int records;
	} logs[] = {
	    {"csv-plain", LOG_FORMAT_CSV, 0, false, false, 12},
	    {"csv-sealed-rotated", LOG_FORMAT_CSV, LOG_MIN_ROTATE_SIZE, true, false, 30},
	    {"csv-sealed-zst", LOG_FORMAT_CSV, LOG_MIN_ROTATE_SIZE, true, true, 30},
	    {"jsonl-sealed", LOG_FORMAT_JSONL, 0, true, false, 12},
	    {"jsonl-rotated-zst", LOG_FORMAT_JSONL, LOG_MIN_ROTATE_SIZE, false, true, 24},
	};
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", tmpl, logs[i].name);
		if (logs[i].seal) {
			struct seal_key k = {.epoch = 0};
			memcpy(k.key, fuzz_key0, sizeof(k.key));
			if (seal_key_store(key, &k, NULL, 0) != 0)
				exit(1);
		}
		make_log(dir, logs[i].fmt, logs[i].rotate, logs[i].seal ? key : NULL,
			 logs[i].records);
		sb_reset(&sb);
		pack_dir(dir, &sb, logs[i].zst);
		put("verify", logs[i].name, sb.data, sb.len);
		/* the active segment alone, for the readers */
		bool jsonl = logs[i].fmt == LOG_FORMAT_JSONL;
		snprintf(path, sizeof(path), "%s/%s", dir, jsonl ? "onmitsu.jsonl" : "onmitsu.csv");
		sb_reset(&sb);
		read_all(path, &sb);
		put(jsonl ? "jsonl_reader" : "csv_reader", logs[i].name, sb.data, sb.len);
		fuzz_dir_clean(dir);
		rmdir(dir);
	}
	unlink(key);
	rmdir(tmpl);
	sb_free(&sb);
}

/* ---- captures ---- */

static size_t ip_packet(uint8_t *b, bool v6, uint8_t proto, uint16_t sport, uint16_t dport,
			uint8_t flags)
{
	size_t h = v6 ? 40 : 20, t;
	uint8_t *p = b + h;
	memset(b, 0, 80);
	p[0] = (uint8_t)(sport >> 8), p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8), p[3] = (uint8_t)dport;
	if (proto == IPPROTO_TCP) {
		p[7] = 1;
		p[12] = 5 << 4;
		p[13] = flags;
		t = 20;
	} else if (proto == IPPROTO_UDP) {
		p[5] = 8;
		t = 8;
	} else {
		p[0] = v6 ? 128 : 8; /* echo request */
		p[1] = 0;
		p[5] = 7;
		t = 8;
	}
	if (v6) {
		b[0] = 0x60;
		b[4] = (uint8_t)(t >> 8), b[5] = (uint8_t)t;
		b[6] = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
		b[7] = 64;
		inet_pton(AF_INET6, "2001:db8::10", b + 8);
		inet_pton(AF_INET6, "2001:db8:1::50", b + 24);
	} else {
		b[0] = 0x45;
		b[2] = (uint8_t)((20 + t) >> 8), b[3] = (uint8_t)(20 + t);
		b[8] = 64;
		b[9] = proto;
		inet_pton(AF_INET, "192.0.2.10", b + 12);
		inet_pton(AF_INET, "203.0.113.7", b + 16);
	}
	return h + t;
}

/* the link-layer header of each link type before an IP packet */
static size_t link_header(int linktype, uint8_t *f, bool v6, int vlans)
{
	uint16_t et = v6 ? 0x86dd : 0x0800;
	size_t h = 0;
	memset(f, 0, 32);
	switch (linktype) {
	case DLT_EN10MB:
		memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
		h = 12;
		for (int i = 0; i < vlans; i++, h += 4)
			f[h] = 0x81, f[h + 3] = (uint8_t)(100 + i);
		f[h] = (uint8_t)(et >> 8), f[h + 1] = (uint8_t)et;
		return h + 2;
	case DLT_LINUX_SLL:
		f[3] = 1, f[5] = 6;
		f[14] = (uint8_t)(et >> 8), f[15] = (uint8_t)et;
		return 16;
	case DLT_LINUX_SLL2:
		f[0] = (uint8_t)(et >> 8), f[1] = (uint8_t)et;
		f[7] = 2, f[9] = 1, f[10] = 4, f[11] = 6;
		return 20;
	case DLT_NULL:
		f[0] = v6 ? 30 : 2;
		return 4;
	default:
		return 0;
	}
}

/* a handful of packets: a TCP handshake and close, UDP, ICMP echo, IPv6 */
static size_t packets(int linktype, int vlans, uint8_t frames[][128], size_t *lens)
{
	static const struct {
		bool v6;
		uint8_t proto, flags;
		uint16_t sport, dport;
	} p[] = {
	    {false, IPPROTO_TCP, 0x02, 40001, 443}, {false, IPPROTO_TCP, 0x12, 443, 40001},
	    {false, IPPROTO_TCP, 0x11, 40001, 443}, {false, IPPROTO_UDP, 0, 40002, 53},
	    {false, IPPROTO_ICMP, 0, 0, 0},	    {true, IPPROTO_TCP, 0x02, 40003, 22},
	    {true, IPPROTO_UDP, 0, 40004, 123},
	};
	size_t n = sizeof(p) / sizeof(p[0]);
	for (size_t i = 0; i < n; i++) {
		size_t h = link_header(linktype, frames[i], p[i].v6, vlans);
		lens[i] = h + ip_packet(frames[i] + h, p[i].v6, p[i].proto, p[i].sport, p[i].dport,
					p[i].flags);
	}
	return n;
}

static void pcap_seed(const char *name, int linktype, int vlans)
{
	char path[] = "/tmp/onmitsu-seed-pcap.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		exit(1);
	close(fd);
	pcap_t *dead =
	    pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_MICRO);
	pcap_dumper_t *dump = dead ? pcap_dump_open(dead, path) : NULL;
	if (!dump) {
		fprintf(stderr, "seeds: cannot write %s\n", path);
		exit(1);
	}
	uint8_t frames[8][128];
	size_t lens[8];
	size_t n = packets(linktype, vlans, frames, lens);
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)lens[i],
					.len = (bpf_u_int32)lens[i]};
		h.ts.tv_sec = (time_t)(T0 / 1000000000ull) + (time_t)i;
		h.ts.tv_usec = 1000 * (long)i;
		pcap_dump((u_char *)dump, &h, frames[i]);
	}
	pcap_dump_close(dump);
	pcap_close(dead);
	struct strbuf sb = STRBUF_INIT;
	read_all(path, &sb);
	unlink(path);
	put("pcap", name, sb.data, sb.len);
	sb_free(&sb);
}

static void pcapng_block(struct strbuf *sb, uint32_t type, const void *body, size_t n)
{
	uint32_t len = (uint32_t)(12 + ((n + 3) & ~(size_t)3));
	static const uint8_t pad[4];
	sb_add(sb, &type, 4);
	sb_add(sb, &len, 4);
	sb_add(sb, body, n);
	sb_add(sb, pad, (4 - n % 4) % 4);
	sb_add(sb, &len, 4);
}

static void pcapng_seed(const char *name, int linktype)
{
	struct strbuf sb = STRBUF_INIT;
	uint8_t shb[16];
	uint32_t magic = 0x1a2b3c4d;
	uint16_t major = 1, minor = 0;
	int64_t len = -1;
	memcpy(shb, &magic, 4);
	memcpy(shb + 4, &major, 2);
	memcpy(shb + 6, &minor, 2);
	memcpy(shb + 8, &len, 8);
	pcapng_block(&sb, 0x0a0d0d0a, shb, sizeof(shb));
	uint8_t idb[8] = {0};
	uint16_t link = (uint16_t)linktype; /* these DLT_ values are their LINKTYPE_ values */
	uint32_t snap = 65535;
	memcpy(idb, &link, 2);
	memcpy(idb + 4, &snap, 4);
	pcapng_block(&sb, 1, idb, sizeof(idb));
	uint8_t frames[8][128];
	size_t lens[8];
	size_t n = packets(linktype, 0, frames, lens);
	for (size_t i = 0; i < n; i++) {
		uint8_t epb[20 + 128];
		uint64_t us = T0 / 1000 + i * 1000;
		uint32_t w[5] = {0, (uint32_t)(us >> 32), (uint32_t)us, (uint32_t)lens[i],
				 (uint32_t)lens[i]};
		memcpy(epb, w, 20);
		memcpy(epb + 20, frames[i], lens[i]);
		pcapng_block(&sb, 6, epb, 20 + lens[i]);
	}
	put("pcap", name, sb.data, sb.len);
	sb_free(&sb);
}

/* ---- values ---- */

static void value_seeds(void)
{
	static const char *escape[] = {
	    "plain text",
	    "a\nb\tc\\d\x7f",
	    "caf\xc3\xa9 \xe2\x80\xae\xe2\x80\xa8 \xf0\x9f\x94\x91",
	    "\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80\xe0\x80",
	    "\"q\", r\0arg two\0\0last",
	};
	static const size_t escape_len[] = {10, 9, 18, 11, 21};
	for (size_t i = 0; i < sizeof(escape) / sizeof(escape[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "value-%zu", i);
		put("escape", name, escape[i], escape_len[i]);
	}
	static const char *args[] = {
	    "2026-11-25T19:13:17Z",
	    "2026-11-25T19:13:17.123456Z",
	    "2026-11-26 04:13+09:00",
	    "2026-11-25",
	    "-1h30m",
	    "-2w",
	    "now",
	    "203.0.113.7:443",
	    "[2001:db8::1]/64:443",
	    "2001:db8::/32",
	    ":53",
	    "10.0.0.0/8",
	    "::ffff:192.0.2.1",
	    "64K",
	    "tcp",
	    "onmitsu-20261125T191317.123456Z-000000000042.csv.zst",
	    "reason=interval epoch=7 head=00 hmac=11",
	    "onmitsu-verify-v1:000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f",
	};
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "value-%02zu", i);
		put("args", name, args[i], strlen(args[i]));
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	log_verbosity = LOG_ERROR;
	log_seeds();
	pcap_seed("ethernet.pcap", DLT_EN10MB, 0);
	pcap_seed("ethernet-qinq.pcap", DLT_EN10MB, 2);
	pcap_seed("sll.pcap", DLT_LINUX_SLL, 0);
	pcap_seed("sll2.pcap", DLT_LINUX_SLL2, 0);
	pcap_seed("raw.pcap", DLT_RAW, 0);
	pcap_seed("null.pcap", DLT_NULL, 0);
	pcapng_seed("ethernet.pcapng", DLT_EN10MB);
	pcapng_seed("sll2.pcapng", DLT_LINUX_SLL2);
	value_seeds();
	return 0;
}
