#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of DNS records (issue 10, "Which name it meant"): a small DNS
server in a network namespace (TEST-NET 192.0.2.128/28 and 2001:db8:53::/64)
answers A, AAAA and CNAME over UDP and TCP; a client process asks it and then
connects to the address it was given (a listener in the namespace). A stub on
this host's 127.0.0.53 answers a query too, as systemd-resolved's would. The
recorder must write one DNS record per query and per response, attributed to
the client (not to the server or the stub), with the name, type, rcode and
answers; a malformed answer is skipped and counted in STOP (dns_malformed=);
`who --dst IP:PORT --json` shows the name the client resolved to the flow's
destination, and `who --name` finds the flow by it.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_dns.py [NAME-SUBSTRING]
"""
import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ONMITSU, check_eq, one, sh  # noqa: E402

HOST4, DNS4, WEB4, OTHER4 = "192.0.2.129", "192.0.2.130", "192.0.2.131", "192.0.2.132"
HOST6, DNS6, WEB6 = "2001:db8:53::1", "2001:db8:53::2", "2001:db8:53::3"
STUB = "127.0.0.53"
WEB_PORT = 8053
ZONE = "dns-test.example"

# The DNS server (in the namespace) and the stub (on this host): the same
# code, answers built by hand. Bounded: it exits after 120 s.
SERVER = r"""
import socket, struct, sys, threading, time
ZONE = %(zone)r
ANSWERS = {
    ("www." + ZONE, 1): [("CNAME", "edge." + ZONE), ("A", %(web4)r)],
    ("www." + ZONE, 28): [("CNAME", "edge." + ZONE), ("AAAA", %(web6)r)],
    ("other." + ZONE, 1): [("A", %(other4)r)],
    ("stub." + ZONE, 1): [("A", %(web4)r)],
    # 100 answers: 1,639 bytes, more than the 1,232 captured (and than a
    # segment or a 1,500-byte packet: fragments over UDP)
    ("many." + ZONE, 1): [("A", "198.18.0.%%d" %% i) for i in range(1, 101)],
}

def name(n):
    out = b""
    for label in n.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"

def qname(msg):
    labels, i = [], 12
    while msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode())
        i += 1 + msg[i]
    return ".".join(labels), struct.unpack("!H", msg[i + 1:i + 3])[0], i + 5

def answer(msg):
    qn, qt, end = qname(msg)
    q = msg[12:end]
    if qn == "bad." + ZONE:
        # an A record whose data is 5 octets: malformed
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 5) + b"\1\2\3\4\5"
        return msg[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0) + q + rr
    rrs = ANSWERS.get((qn.lower(), qt))
    if rrs is None:
        return msg[:2] + b"\x81\x83" + struct.pack("!HHHH", 1, 0, 0, 0) + q
    body, owner = b"", b"\xc0\x0c"
    for typ, val in rrs:
        if typ == "CNAME":
            data = name(val)
            body += owner + struct.pack("!HHIH", 5, 1, 60, len(data)) + data
            owner = None
        else:
            fam, t = (socket.AF_INET, 1) if typ == "A" else (socket.AF_INET6, 28)
            data = socket.inet_pton(fam, val)
            o = owner if owner else name("edge." + ZONE)
            body += o + struct.pack("!HHIH", t, 1, 60, len(data)) + data
    return msg[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, len(rrs), 0, 0) + q + body

def sock(fam, kind):
    s = socket.socket(fam, kind)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return s

def udp(fam, addr):
    s = sock(fam, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        msg, peer = s.recvfrom(4096)
        s.sendto(answer(msg), peer)

def tcp_conn(c):
    with c:
        while True:
            hdr = c.recv(2, socket.MSG_WAITALL)
            if len(hdr) < 2:
                return
            msg = c.recv(struct.unpack("!H", hdr)[0], socket.MSG_WAITALL)
            a = answer(msg)
            c.sendall(struct.pack("!H", len(a)) + a)

def tcp(fam, addr, port, dns):
    s = sock(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        if dns:
            threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()
        else:
            c.close()

binds = %(binds)r
for fam, addr, port, kind in binds:
    f = socket.AF_INET6 if fam == 6 else socket.AF_INET
    if kind == "udp":
        threading.Thread(target=udp, args=(f, addr), daemon=True).start()
    else:
        threading.Thread(target=tcp, args=(f, addr, port, kind == "dns"), daemon=True).start()
time.sleep(0.3)
print("ready", flush=True)
time.sleep(120)
"""

# The client: asks, then connects to what it was told. Prints a JSON line
# with what it did (its pid, each query's source port, each connection's).
CLIENT = r"""
import json, os, socket, struct, sys
ZONE = %(zone)r

def query(n, t, ident):
    q = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    for label in n.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", t, 1)

def addrs(resp):
    out = []
    an = struct.unpack("!H", resp[6:8])[0]
    i = 12
    while resp[i]:
        i += 1 + resp[i]
    i += 5
    for _ in range(an):
        while True:
            if resp[i] >= 0xc0:
                i += 2
                break
            if resp[i] == 0:
                i += 1
                break
            i += 1 + resp[i]
        t, _, _, ln = struct.unpack("!HHIH", resp[i:i + 10])
        i += 10
        if t == 1:
            out.append(socket.inet_ntop(socket.AF_INET, resp[i:i + 4]))
        elif t == 28:
            out.append(socket.inet_ntop(socket.AF_INET6, resp[i:i + 16]))
        i += ln
    return out

did = {"pid": os.getpid(), "queries": {}, "conns": {}}

def udp_connected(server, n, t, ident):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((server, 53))       # as glibc's resolver does
    s.send(query(n, t, ident))
    r = s.recv(4096)
    did["queries"][n + "/" + str(t)] = s.getsockname()[1]
    s.close()
    return r

def udp_sendto(server, n, t, ident):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(query(n, t, ident), (server, 53))   # unconnected, as dig does
    r, _ = s.recvfrom(4096)
    did["queries"][n + "/" + str(t)] = s.getsockname()[1]
    s.close()
    return r

def tcp_query(server, n, t, ident):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.create_connection((server, 53), timeout=5)
    m = query(n, t, ident)
    s.sendall(struct.pack("!H", len(m)) + m)
    ln = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
    r = s.recv(ln, socket.MSG_WAITALL)
    did["queries"][n + "/" + str(t)] = s.getsockname()[1]
    s.close()
    return r

def connect(addr, port, key):
    s = socket.create_connection((addr, port), timeout=5)
    did["conns"][key] = s.getsockname()[1]
    s.close()

what = sys.argv[1]
if what == "main":
    a = addrs(udp_connected(%(dns4)r, "www." + ZONE, 1, 0x1111))
    connect(a[0], %(port)d, "v4")
    a6 = addrs(tcp_query(%(dns6)r, "www." + ZONE, 28, 0x2222))
    connect(a6[0], %(port)d, "v6")
    udp_sendto(%(dns4)r, "nx." + ZONE, 1, 0x3333)
    udp_connected(%(dns4)r, "bad." + ZONE, 1, 0x4444)
    udp_connected(%(stub)r, "stub." + ZONE, 1, 0x5555)
    udp_connected(%(dns4)r, "many." + ZONE, 1, 0x7777)
    tcp_query(%(dns4)r, "many." + ZONE, 1, 0x8888)
elif what == "resolve-other":
    udp_connected(%(dns4)r, "other." + ZONE, 1, 0x6666)
elif what == "connect-other":
    connect(%(other4)r, %(port)d, "other")
print(json.dumps(did), flush=True)
"""

NET = harness.Netns("dns", HOST4, [DNS4, WEB4, OTHER4], 28, HOST6, [DNS6, WEB6], 64)
PARAMS = {"zone": ZONE, "web4": WEB4, "web6": WEB6, "other4": OTHER4, "dns4": DNS4,
          "dns6": DNS6, "stub": STUB, "port": WEB_PORT}


def start_server(prefix, binds):
    code = SERVER % dict(PARAMS, binds=binds)
    p = subprocess.Popen(prefix + [sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        p.kill()
        raise AssertionError("the DNS server did not start: %s" % p.stderr.read())
    return p


def run_client(what):
    p = subprocess.run([sys.executable, "-c", CLIENT % PARAMS, what], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("client %s failed: %s" % (what, p.stderr))
    return json.loads(p.stdout)


def onmitsu(*args, check=True):
    p = subprocess.run([ONMITSU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("onmitsu %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def records(log_dir):
    p = onmitsu("cat", "--log-dir", log_dir, "--format", "csv")
    return list(csv.DictReader(io.StringIO(p.stdout)))


def detail(rec):
    return dict(kv.split("=", 1) for kv in rec["detail"].split() if "=" in kv)


class Scenario:
    """Everything happens once; the tests check what it left."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="onmitsu-dns-")
        self.log_dir = os.path.join(self.tmp, "log")
        self.servers = []
        NET.up()
        try:
            self.servers.append(start_server(NET.exec, [
                (4, "0.0.0.0", 53, "udp"), (6, "::", 53, "udp"), (4, "0.0.0.0", 53, "dns"),
                (6, "::", 53, "dns"), (4, "0.0.0.0", WEB_PORT, "web"),
                (6, "::", WEB_PORT, "web")]))
            try:
                self.servers.append(start_server([], [(4, STUB, 53, "udp")]))
            except AssertionError as e:
                raise harness.CannotRun("cannot run a stub resolver on %s:53 (%s)" % (STUB, e))
            rec = harness.Recorder(self.log_dir)
            self.main = run_client("main")
            self.resolver = run_client("resolve-other")
            self.other = run_client("connect-other")
            time.sleep(0.2)
            rec.stop()
            self.recs = records(self.log_dir)
        finally:
            for s in self.servers:
                s.kill()
                s.wait()
            NET.down()

    def dns(self, name, msg, qtype=None):
        return [r for r in self.recs if r["event"] == "DNS" and r["dns_name"] == name and
                detail(r).get("msg") == msg and qtype in (None, r["dns_type"])]


S = None
S_ERROR = None


def scenario():
    """Run once; a failure of the run fails every test with the same error."""
    global S, S_ERROR
    if S_ERROR is not None:
        raise AssertionError("the scenario failed (see the first test): %s" % S_ERROR)
    if S is None:
        try:
            S = Scenario()
        except BaseException as e:
            S_ERROR = e
            raise
    return S


def check_pair(s, name, qtype, proto, src, dst, sport, answers, rcode="NOERROR", pid=None):
    pid = str(pid or s.main["pid"])
    q = one(s.dns(name, "query", qtype), "query for %s %s" % (name, qtype))
    r = one(s.dns(name, "response", qtype), "response for %s %s" % (name, qtype))
    for what, rec in (("query", q), ("response", r)):
        check_eq("%s %s pid" % (name, what), rec["pid"], pid)
        check_eq("%s %s guid set" % (name, what), bool(rec["guid"]), True)
        check_eq("%s %s uid" % (name, what), rec["uid"], "0")
        check_eq("%s %s proto" % (name, what), rec["proto"], proto)
        check_eq("%s %s src" % (name, what), (rec["src_ip"], rec["src_port"]), (src, str(sport)))
        check_eq("%s %s dst" % (name, what), (rec["dst_ip"], rec["dst_port"]), (dst, "53"))
        check_eq("%s %s direction" % (name, what), rec["direction"], "out")
        check_eq("%s %s type" % (name, what), rec["dns_type"], qtype)
        check_eq("%s %s community_id set" % (name, what), rec["community_id"].startswith("1:"),
                 True)
    check_eq("%s query result" % name, q["result"], "")
    check_eq("%s query answers" % name, q["dns_answers"], "")
    check_eq("%s response rcode" % name, r["result"], rcode)
    check_eq("%s response answers" % name, r["dns_answers"], answers)
    check_eq("%s ids" % name, detail(q)["id"], detail(r)["id"])
    return q, r


def test_udp_a_with_cname():
    s = scenario()
    check_pair(s, "www." + ZONE, "A", "udp", HOST4, DNS4, s.main["queries"]["www.%s/1" % ZONE],
               "CNAME edge.%s;A %s" % (ZONE, WEB4))


def test_tcp_aaaa_over_ipv6():
    s = scenario()
    check_pair(s, "www." + ZONE, "AAAA", "tcp", HOST6, DNS6,
               s.main["queries"]["www.%s/28" % ZONE], "CNAME edge.%s;AAAA %s" % (ZONE, WEB6))


def test_unconnected_udp_nxdomain():
    s = scenario()
    check_pair(s, "nx." + ZONE, "A", "udp", HOST4, DNS4, s.main["queries"]["nx.%s/1" % ZONE],
               "", rcode="NXDOMAIN")


def test_stub_resolver_query_is_the_clients():
    """A query to the local stub (127.0.0.53) is the asking process's, once each way,
    not the stub's."""
    s = scenario()
    check_pair(s, "stub." + ZONE, "A", "udp", "127.0.0.1", STUB,
               s.main["queries"]["stub.%s/1" % ZONE], "A %s" % WEB4)


def test_malformed_answer_skipped_and_counted():
    s = scenario()
    one(s.dns("bad." + ZONE, "query"), "query for bad")
    check_eq("responses for bad", s.dns("bad." + ZONE, "response"), [])
    stop = one([r for r in s.recs if r["event"] == "STOP"], "STOP")
    check_eq("STOP dns_malformed", detail(stop).get("dns_malformed"), "1")
    check_eq("STOP dns_records", int(detail(stop)["dns_records"]) >= 10, True)


def test_long_answers_cut_at_the_capture_over_udp_and_tcp():
    """1,639 bytes of answers: the first 1,232 are read (74 answers), 64 written,
    the record says so; over TCP the segment that continues the message gives no
    record of its own."""
    s = scenario()
    for proto in ("udp", "tcp"):
        q = one([r for r in s.dns("many." + ZONE, "query") if r["proto"] == proto],
                "many query %s" % proto)
        r = one([r for r in s.dns("many." + ZONE, "response") if r["proto"] == proto],
                "many response %s" % proto)
        check_eq("many %s pids" % proto, (q["pid"], r["pid"]), (str(s.main["pid"]),) * 2)
        d = detail(r)
        check_eq("many %s answers" % proto, d.get("answers"), "100")
        check_eq("many %s cut" % proto, d.get("cut"), "1")
        read = int(d["answers_read"])
        if not 60 <= read <= 76:
            raise AssertionError("many %s: %d answers read of the 1,232 bytes" % (proto, read))
        answers = r["dns_answers"].split(";")
        check_eq("many %s written" % proto, len(answers), 64)
        check_eq("many %s first/last" % proto, (answers[0], answers[-1]),
                 ("A 198.18.0.1", "A 198.18.0.64"))
        check_eq("many %s omitted" % proto, d.get("answers_omitted"), str(read - 64))


def test_server_side_not_recorded():
    """The server's sockets (local port 53) write nothing: each message once."""
    s = scenario()
    for r in s.recs:
        if r["event"] == "DNS" and r["dns_name"].endswith(ZONE):
            if r["pid"] != str(s.main["pid"]) and r["pid"] != str(s.resolver["pid"]):
                raise AssertionError("a DNS record of another process: %r" % r)


def who_json(s, *args):
    p = onmitsu("who", "--json", "--log-dir", s.log_dir, *args)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def test_who_dst_shows_the_name_the_process_resolved():
    s = scenario()
    for addr, key, qtype in (("%s:%d" % (WEB4, WEB_PORT), "v4", "A"),
                             ("[%s]:%d" % (WEB6, WEB_PORT), "v6", "AAAA")):
        # the listener in the namespace is a process of this host too: its
        # accepted side is the flow's other record, without a name
        flows = who_json(s, "--dst", addr)
        f = one([f for f in flows if (f["process"] or {}).get("pid") == s.main["pid"]],
                "who --dst %s of the client" % addr)
        check_eq("%s src_port" % addr, f["flow"]["src_port"], s.main["conns"][key])
        check_eq("%s dns_name" % addr, f["flow"]["dns_name"], "www." + ZONE)
        check_eq("%s dns_name_from" % addr, f["flow"]["dns_name_from"], "process")


def test_who_dst_name_from_another_process_is_marked_host():
    s = scenario()
    flows = who_json(s, "--dst", "%s:%d" % (OTHER4, WEB_PORT))
    f = one([f for f in flows if (f["process"] or {}).get("pid") == s.other["pid"]],
            "who --dst other of the client")
    check_eq("other dns_name", f["flow"]["dns_name"], "other." + ZONE)
    check_eq("other dns_name_from", f["flow"]["dns_name_from"], "host")
    # the table says who resolved it
    p = onmitsu("who", "--log-dir", s.log_dir, "--dst", "%s:%d" % (OTHER4, WEB_PORT))
    if "dns       other.%s  (resolved on this host by %d " % (ZONE, s.resolver["pid"]) \
            not in p.stdout:
        raise AssertionError("who's table does not name the resolver: %s" % p.stdout)


def test_who_name_finds_the_flows():
    s = scenario()
    flows = who_json(s, "--name", "WWW.DNS-TEST.*")
    got = sorted((f["process"]["pid"], f["flow"]["dst_ip"], f["flow"]["dst_port"])
                 for f in flows)
    check_eq("who --name flows", got, sorted([(s.main["pid"], WEB4, WEB_PORT),
                                              (s.main["pid"], WEB6, WEB_PORT)]))
    # a name only another process resolved does not name this flow
    check_eq("who --name other", who_json(s, "--name", "other." + ZONE), [])


TESTS = [test_udp_a_with_cname, test_tcp_aaaa_over_ipv6, test_unconnected_udp_nxdomain,
         test_stub_resolver_query_is_the_clients, test_malformed_answer_skipped_and_counted,
         test_server_side_not_recorded, test_long_answers_cut_at_the_capture_over_udp_and_tcp,
         test_who_dst_shows_the_name_the_process_resolved,
         test_who_dst_name_from_another_process_is_marked_host, test_who_name_finds_the_flows]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-dns", "DNS tests")
    if rc is not None:
        return rc
    if not os.access(ONMITSU, os.X_OK):
        print("FAIL e2e-dns: %s is missing; run make setup all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-dns", results)


if __name__ == "__main__":
    sys.exit(main())
