#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end test of the investigation commands (issue 3), modelled on the
paper's Zeus experiment:

- a "dropper" (build/e2e/dropper, copied to DIR/Desktop/invoice.pdf.exe) copies
  itself into a temp folder and runs the copy; that child starts another copy
  and exits; the orphaned grandchild deletes its own file and connects to two
  "C&C" hosts (TCP to both, UDP to the second);
- meanwhile other processes make ordinary TCP and UDP connections, IPv4 and
  IPv6, to a "web server";
- after the grandchild exits, another process opens a connection on the very
  same 5-tuple (its source port reused) to the first C&C host;
- tcpdump captures all of it on the veth.

Then `correlate` must attribute every flow of the capture to the right pid
(none unattributed, the reused port to the second process), the C&C flows'
ancestry must lead back to the dropper (the copy, then the original), and
`who --dst`, `tree --pid` and `timeline --guid --descendants` must say the same.

The remote hosts are a network namespace made here, reached over a veth pair
with TEST-NET addresses of their own (203.0.113.8/29 and 2001:db8:3::/64, more
specific than the /24 that tests/e2e/run.py routes into its namespace, and
apart from the address it uses there). The servers in it listen but never
accept(), as a remote host would: nothing of theirs is in the log. No traffic
leaves the machine.

Needs root. Outside CI a non-root run skips with a message; with CI=true a test
that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_investigation.py
"""
import csv
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import run as e2e  # noqa: E402

ROOT = e2e.ROOT
ONMITSU = e2e.ONMITSU
PROBE = e2e.PROBE
DROPPER = os.path.join(ROOT, "build", "e2e", "dropper")
IN_CI = e2e.IN_CI
check_eq, one, sh = e2e.check_eq, e2e.one, e2e.sh

PREFIX4, PREFIX6 = "203.0.113.8/29", "2001:db8:3::/64"
HOST4, HOST6 = "203.0.113.9", "2001:db8:3::1"
C2A, C2B = "203.0.113.10", "203.0.113.11"     # the C&C hosts
WEB4, WEB6 = "203.0.113.12", "2001:db8:3::12"  # an ordinary server
C2A_PORT, C2B_PORT, WEB_PORT, DNS_PORT = 443, 8080, 80, 53
TCPDUMP = shutil.which("tcpdump") or "/usr/bin/tcpdump"

# listens, never accepts (a remote host: no records of its own); bounded
LISTENER = r"""
import socket, time
socks = []
for fam, addr, port in ((socket.AF_INET, "0.0.0.0", %d), (socket.AF_INET, "0.0.0.0", %d),
                        (socket.AF_INET, "0.0.0.0", %d), (socket.AF_INET6, "::", %d)):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port)); s.listen(64); socks.append(s)
print("ready", flush=True)
time.sleep(300)
""" % (C2A_PORT, C2B_PORT, WEB_PORT, WEB_PORT)


# ---------------------------------------------------------------- the network

NET = harness.Netns("inv", HOST4, [C2A, C2B, WEB4], 29, HOST6, [WEB6], 64)
NS, VETH_H = NET.name, NET.veth_h


def netns_up():
    # the only traffic before the capture starts: the link check's pings
    NET.up()


def netns_down():
    NET.down()


class Tcpdump:
    """tcpdump on the host's end of the veth, only this test's addresses."""

    def __init__(self, path):
        self.path = path
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [TCPDUMP, "-i", VETH_H, "-n", "--immediate-mode", "-U", "-Z", "root", "-c", "10000",
             "-w", path,
             "net %s or net %s" % (PREFIX4, PREFIX6)],
            stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("tcpdump exited with %d: %s" % (self.proc.returncode,
                                                                     self.text()))
            if "listening on" in self.text():
                return
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        raise AssertionError("tcpdump did not start listening within 10 s: " + self.text())

    def text(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("tcpdump did not stop within 10 s of SIGINT")
        if self.proc.returncode != 0:
            raise AssertionError("tcpdump exited with %d: %s" % (self.proc.returncode,
                                                                 self.text()))
        if "\n0 packets dropped by kernel" not in self.text():
            raise AssertionError("tcpdump dropped packets: %s" % self.text())


# ---------------------------------------------------------------- the scenario

def kv(line):
    return dict(x.split("=", 1) for x in line.split() if "=" in x)


def run_dropper(orig, tempdir):
    """Runs the dropper family; returns what it printed, with each stage's start ticks."""
    p = subprocess.Popen([orig, tempdir, C2A, str(C2A_PORT), C2B, str(C2B_PORT)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = queue.Queue()

    def reader():
        for line in p.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)  # EOF: every stage has exited
    threading.Thread(target=reader, daemon=True).start()
    out = {"stages": {}, "flows": [], "lines": []}
    deadline = time.time() + 30
    try:
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("the dropper family did not finish within 30 s: %r" %
                                     out["lines"])
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                break
            out["lines"].append(line)
            d = kv(line)
            if line.startswith("stage="):
                pid = int(d["pid"])
                out["stages"][int(d["stage"])] = {"pid": pid, "ppid": int(d["ppid"]),
                                                  "ticks": e2e.start_ticks(pid)}
                p.stdin.write("g")  # go on
                p.stdin.flush()
            elif line.startswith("flow "):
                out["flows"].append({"proto": d["proto"], "dst": d["dst"],
                                     "dport": int(d["dport"]), "sport": int(d["sport"]),
                                     "errno": int(d["errno"])})
            elif line.startswith("forked "):
                out["forked"] = int(d["child"])
            elif line.startswith("reparented "):
                out["reparented_ppid"] = int(d["ppid"])
            elif line.startswith("deleted "):
                out["deleted"] = d["path"]
        p.stdin.close()
        out["rc"] = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return out


ORDINARY = [("tcp", WEB4, WEB_PORT), ("udp", WEB4, DNS_PORT), ("tcp", WEB6, WEB_PORT),
            ("udp", WEB6, DNS_PORT)]


def ordinary_traffic(results, done):
    """Other processes' ordinary connections, round after round while the dropper's family
    runs, and one round more: some before the C&C flows, some after (bounded)."""
    procs = []
    for rnd in range(30):
        last = done.is_set()
        for mode, host, port in ORDINARY:
            procs.append(((mode, host, port),
                          subprocess.Popen([PROBE, mode, host, str(port)], stdout=subprocess.PIPE,
                                           text=True)))
            time.sleep(0.1)
        if last:
            break
    for what, p in procs:
        out, _ = p.communicate(timeout=20)
        info = e2e.parse_probe(out)
        results.append((what, info[0] if info else None, p.returncode))


def run_scenario(tmp):
    base = os.path.realpath(tmp)
    desktop, tempdir = os.path.join(base, "Desktop"), os.path.join(base, "Temp")
    os.makedirs(desktop)
    os.makedirs(tempdir)
    orig = os.path.join(desktop, "invoice.pdf.exe")
    shutil.copy(DROPPER, orig)
    os.chmod(orig, 0o755)
    s = {"orig": orig, "copy": os.path.join(tempdir, "svch0st"), "tempdir": tempdir,
         "cap": os.path.join(base, "capture.pcap"), "log_dir": os.path.join(base, "log")}
    ordinary = []
    family_done = threading.Event()
    browser = threading.Thread(target=ordinary_traffic, args=(ordinary, family_done))
    dump = Tcpdump(s["cap"])
    rec = None
    try:
        rec = e2e.Recorder(s["log_dir"])
        browser.start()
        try:
            s["dropper"] = run_dropper(orig, tempdir)
        finally:
            family_done.set()
        browser.join(timeout=60)
        if browser.is_alive():
            raise AssertionError("the ordinary traffic did not end within 60 s")
        s["ordinary"] = ordinary
        # the same 5-tuple again, by another process, once the first has exited
        time.sleep(1.5)
        tcp_a = [f for f in s["dropper"]["flows"] if f["proto"] == "tcp" and f["dst"] == C2A]
        if not tcp_a or not tcp_a[0]["sport"]:
            raise AssertionError("the grandchild reported no C&C connection: %r" %
                                 s["dropper"]["lines"])
        infos, p = e2e.probe("tcp-from", HOST4, tcp_a[0]["sport"], C2A, C2A_PORT)
        if not infos:
            raise AssertionError("tcp-from did not run: %r" % p.stderr)
        s["reuse"] = infos[0]
        time.sleep(1.0)  # the last packets reach tcpdump, the last records the log
    finally:
        try:
            dump.stop()
        finally:
            if rec:
                s["log"] = rec.stop()
    return s


# ---------------------------------------------------------------- queries

def onmitsu(*args, rc=0):
    p = sh(ONMITSU, *args, check=False)
    if p.returncode != rc:
        raise AssertionError("onmitsu %s: exit %d, want %d: %s" % (" ".join(args), p.returncode,
                                                                  rc, p.stderr))
    return p


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def flow_key(f):
    return (f["proto"], f["src_ip"], f["src_port"], f["dst_ip"], f["dst_port"])


class Checks:
    def __init__(self, s):
        self.s = s
        d = s["dropper"]
        st = d["stages"]
        self.log = s["log"]
        self.dropper, self.stage1, self.gc = st.get(0), st.get(1), st.get(2)
        for x in (self.dropper, self.stage1, self.gc):
            if x:
                x["guid"] = e2e.expected_guid(x["pid"], x["ticks"])
        fl = {(f["proto"], f["dst"]): f for f in d["flows"]}
        self.gc_a, self.gc_b, self.gc_u = fl.get(("tcp", C2A)), fl.get(("tcp", C2B)), \
            fl.get(("udp", C2B))
        self.cap = s["cap"]
        self.log_dir = s["log_dir"]
        self.cache = {}

    def q(self, *args):
        if args not in self.cache:
            self.cache[args] = onmitsu(*args)
        return self.cache[args]

    # the exact values this test knows
    def expected_flows(self):
        """(proto, src, sport, dst, dport) -> [(pid, exe)], in the order the flows were made"""
        want = {}
        for f in (self.gc_a, self.gc_b, self.gc_u):
            want.setdefault((f["proto"], HOST4, f["sport"], f["dst"], f["dport"]), []).append(
                (self.gc["pid"], self.s["copy"]))
        r = self.s["reuse"]
        want.setdefault(("tcp", HOST4, r["sport"], C2A, C2A_PORT), []).append((r["pid"], PROBE))
        for (mode, host, port), info, _rc in self.s["ordinary"]:
            src = HOST6 if ":" in host else HOST4
            want.setdefault((mode, src, info["sport"], host, port), []).append((info["pid"], PROBE))
        return want

    def check_proc(self, what, got, stage, exe, argv):
        check_eq(what + " pid", got["pid"], stage["pid"])
        check_eq(what + " guid (from boot id, pid, start ticks)", got["guid"], stage["guid"])
        check_eq(what + " exe", got["exe"], exe)
        check_eq(what + " cmdline", e2e.decode_cmdline(got["cmdline"]), [a.encode() for a in argv])

    def check_cc_chain(self, what, res):
        """a C&C flow's process and ancestry: grandchild < copy < dropper < this test"""
        cc_args = [C2A, str(C2A_PORT), C2B, str(C2B_PORT)]
        copy = self.s["copy"]
        self.check_proc(what + " process", res["process"], self.gc, copy, [copy, "-c"] + cc_args)
        check_eq(what + " process uid", res["process"]["uid"], 0)
        anc = res["ancestry"]
        if len(anc) < 3:
            raise AssertionError("%s ancestry too short: %r" % (what, anc))
        self.check_proc(what + " ancestry[0] (the first copy)", anc[0], self.stage1, copy,
                        [copy, "-s"] + cc_args)
        self.check_proc(what + " ancestry[1] (the dropper)", anc[1], self.dropper,
                        self.s["orig"], [self.s["orig"], self.s["tempdir"]] + cc_args)
        check_eq(what + " ancestry[2] (the test that ran the dropper)", anc[2]["pid"], os.getpid())
        check_eq(what + " ancestry[2] exe", anc[2]["exe"], os.path.realpath(sys.executable))

    # ------------------------------------------------------------ the checks

    def scenario_ran_as_planned(self):
        d = self.s["dropper"]
        check_eq("dropper exit status", d["rc"], 0)
        check_eq("stages reported", sorted(d["stages"]), [0, 1, 2])
        check_eq("dropper's parent", self.dropper["ppid"], os.getpid())
        check_eq("first copy's parent", self.stage1["ppid"], self.dropper["pid"])
        check_eq("the first copy's child is the grandchild", d.get("forked"), self.gc["pid"])
        if d.get("reparented_ppid") in (None, self.stage1["pid"]):
            raise AssertionError("the grandchild was not orphaned: %r" % d["lines"])
        check_eq("the grandchild deleted its own file", d.get("deleted"), self.s["copy"])
        check_eq("the copy is gone", os.path.exists(self.s["copy"]), False)
        for f in (self.gc_a, self.gc_b, self.gc_u):
            if not f or f["errno"] or not f["sport"]:
                raise AssertionError("a C&C flow failed: %r" % d["lines"])
        r = self.s["reuse"]
        check_eq("reuse connect errno (%r)" % r, r["errno"], 0)
        check_eq("reuse took the grandchild's source port", r["sport"], self.gc_a["sport"])
        for what, info, rc in self.s["ordinary"]:
            if rc != 0 or not info or info["errno"] or not info["sport"]:
                raise AssertionError("ordinary flow %r failed: %r (exit %d)" % (what, info, rc))

    def log_has_the_family(self):
        """the raw log agrees with what the programs printed (the queries read this)"""
        lg = self.log
        e0 = one(lg.find(event="EXEC", pid=self.dropper["pid"]), "dropper EXEC")
        check_eq("dropper EXEC exe", e0["exe"], self.s["orig"])
        check_eq("dropper EXEC guid", e0["guid"], self.dropper["guid"])
        for st, name in ((self.stage1, "first copy"), (self.gc, "grandchild")):
            f = one(lg.find(event="FORK", pid=st["pid"]), name + " FORK")
            check_eq(name + " FORK guid", f["guid"], st["guid"])
            e = one(lg.find(event="EXEC", pid=st["pid"]), name + " EXEC")
            check_eq(name + " EXEC exe", e["exe"], self.s["copy"])
        check_eq("first copy's parent_guid", one(lg.find(event="FORK", pid=self.stage1["pid"]),
                                                 "FORK")["parent_guid"], self.dropper["guid"])
        check_eq("grandchild's parent_guid", one(lg.find(event="FORK", pid=self.gc["pid"]),
                                                 "FORK")["parent_guid"], self.stage1["guid"])
        # hook_skipped (a program the kernel skipped in a nested interrupt) is reported
        # and rare; the checks above say whether anything of the family was missed
        check_eq("LOST records", [r for r in lg.find(event="LOST")
                                  if "kind=hook_skipped" not in r["detail"]], [])

    def correlate_attributes_every_flow(self):
        p = self.q("correlate", self.cap, "--log-dir", self.log_dir, "--json")
        want = self.expected_flows()
        nwant = sum(len(v) for v in want.values())
        check_eq("correlate summary", p.stderr.strip().splitlines()[-1],
                 "flows seen %d, attributed %d, unattributed 0" % (nwant, nwant))
        res = json_lines(p.stdout)
        got = {}
        for r in res:
            if r["process"] is None:
                raise AssertionError("unattributed flow: %r" % r)
            got.setdefault(flow_key(r["flow"]), []).append(
                (r["flow"]["time"], r["process"]["pid"], r["process"]["exe"]))
        # the ordinary traffic went on before and after the C&C flows
        times = {pid: sorted(t for k, v in got.items() for t, p, _e in v if p == pid)
                 for pid in {p for v in got.values() for _t, p, _e in v}}
        cc_times = times[self.gc["pid"]]
        ordinary = [t for _w, info, _rc in self.s["ordinary"] for t in times[info["pid"]]]
        if not (min(ordinary) < cc_times[0] and cc_times[-1] < max(ordinary)):
            raise AssertionError("the ordinary flows (%s .. %s) do not surround the C&C flows "
                                 "(%s .. %s)" % (min(ordinary), max(ordinary), cc_times[0],
                                                 cc_times[-1]))
        got = {k: [(pid, exe) for _t, pid, exe in sorted(v)] for k, v in got.items()}
        check_eq("correlate: each flow's (pid, exe), in time order", got, want)
        for r in res:
            f = r["flow"]
            check_eq("correlate community_id of %r" % (flow_key(f),), f["community_id"],
                     e2e.community_id(f["proto"], f["src_ip"], f["dst_ip"], f["src_port"],
                                      f["dst_port"]))
        # every attributed process is the one the log names for that pid (guid)
        for r in res:
            pr = r["process"]
            recs = [x for x in self.log.find(pid=pr["pid"]) if x["event"] in ("FORK", "EXEC")]
            if pr["guid"] not in {x["guid"] for x in recs}:
                raise AssertionError("correlate guid %s is not pid %d's in the log" %
                                     (pr["guid"], pr["pid"]))

    def correlate_cc_ancestry_leads_to_the_dropper(self):
        res = json_lines(self.q("correlate", self.cap, "--log-dir", self.log_dir,
                                "--json").stdout)
        cc = [r for r in res if r["flow"]["dst_ip"] in (C2A, C2B)]
        check_eq("C&C flows in the capture", len(cc), 4)
        gc_flows = [r for r in cc if r["process"]["pid"] == self.gc["pid"]]
        check_eq("C&C flows of the grandchild",
                 sorted((r["flow"]["proto"], r["flow"]["dst_ip"], r["flow"]["dst_port"])
                        for r in gc_flows),
                 sorted([("tcp", C2A, C2A_PORT), ("tcp", C2B, C2B_PORT), ("udp", C2B, C2B_PORT)]))
        for r in gc_flows:
            self.check_cc_chain("correlate %s %s" % (r["flow"]["proto"], r["flow"]["dst_ip"]), r)

    def correlate_reused_port_goes_to_the_second_process(self):
        res = json_lines(self.q("correlate", self.cap, "--log-dir", self.log_dir,
                                "--json").stdout)
        key = ("tcp", HOST4, self.gc_a["sport"], C2A, C2A_PORT)
        same = sorted((r for r in res if flow_key(r["flow"]) == key),
                      key=lambda r: r["flow"]["time"])
        check_eq("flows on the reused 5-tuple", len(same), 2)
        self.check_cc_chain("first flow on the reused tuple", same[0])
        r = self.s["reuse"]
        second = same[1]
        check_eq("second flow's pid", second["process"]["pid"], r["pid"])
        check_eq("second flow's exe", second["process"]["exe"], PROBE)
        check_eq("second flow's cmdline", e2e.decode_cmdline(second["process"]["cmdline"]),
                 [x.encode() for x in (PROBE, "tcp-from", HOST4, str(self.gc_a["sport"]), C2A,
                                       str(C2A_PORT))])
        check_eq("second flow's parent", second["ancestry"][0]["pid"], os.getpid())
        if any(a["pid"] in (self.gc["pid"], self.dropper["pid"]) for a in second["ancestry"]):
            raise AssertionError("the second process is given the dropper's family: %r" % second)
        if second["process"]["guid"] == self.gc["guid"]:
            raise AssertionError("the second process has the grandchild's guid")

    def correlate_csv_and_table_agree(self):
        p = self.q("correlate", self.cap, "--log-dir", self.log_dir, "--csv")
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        want = self.expected_flows()
        check_eq("correlate --csv rows", len(rows), sum(len(v) for v in want.values()))
        for row in rows:
            k = (row["proto"], row["src_ip"], int(row["src_port"]), row["dst_ip"],
                 int(row["dst_port"]))
            if int(row["pid"]) not in [pid for pid, _ in want.get(k, [])]:
                raise AssertionError("correlate --csv: %r -> pid %s" % (k, row["pid"]))
            if abs(float(row["record_delta_s"])) > 1.0:
                raise AssertionError("NET record %s s away from the flow's first packet: %r" %
                                     (row["record_delta_s"], row))
            if row["pid"] == str(self.gc["pid"]):
                check_eq("csv ancestry_pids", row["ancestry_pids"].split(" < ")[:3],
                         [str(self.stage1["pid"]), str(self.dropper["pid"]), str(os.getpid())])
        # what the process was: the same in CSV as in JSON
        js = [json.loads(x) for x in
              self.q("correlate", self.cap, "--log-dir", self.log_dir, "--json").stdout.splitlines()]
        csv_what = sorted((r["pid"], r["sha256"], r["cgroup"]) for r in rows)
        json_what = sorted((str(j["process"]["pid"]), j["process"]["sha256"] or "",
                            j["process"]["cgroup"] or "") for j in js if j.get("process"))
        check_eq("correlate --csv sha256 and cgroup as --json has them", csv_what, json_what)
        if not any(len(r["sha256"]) == 64 for r in rows):
            raise AssertionError("correlate --csv: no sha256 in any row: %r" % rows[:2])
        t = self.q("correlate", self.cap, "--log-dir", self.log_dir).stdout
        n = sum(len(v) for v in want.values())
        if "flows seen %d, attributed %d, unattributed 0" % (n, n) not in t:
            raise AssertionError("table summary missing: %r" % t[-300:])
        for s in (str(self.gc["pid"]), self.s["copy"], self.s["orig"], str(self.dropper["pid"])):
            if s not in t:
                raise AssertionError("correlate table does not show %r" % s)

    def who_dst_says_the_same(self):
        res = json_lines(onmitsu("who", "--dst", C2A, "--log-dir", self.log_dir,
                                 "--json").stdout)
        check_eq("who --dst C2A flows (pid, src_port) in log order",
                 [(r["process"]["pid"], r["flow"]["src_port"]) for r in res],
                 [(self.gc["pid"], self.gc_a["sport"]), (self.s["reuse"]["pid"],
                                                         self.gc_a["sport"])])
        self.check_cc_chain("who --dst C2A", res[0])
        check_eq("who --dst C2A second process", res[1]["process"]["exe"], PROBE)
        check_eq("who --dst C2A second's parent", res[1]["ancestry"][0]["pid"], os.getpid())
        corr = [r for r in json_lines(self.q("correlate", self.cap, "--log-dir", self.log_dir,
                                             "--json").stdout) if r["flow"]["dst_ip"] == C2A]
        corr.sort(key=lambda r: r["flow"]["time"])
        check_eq("who and correlate: same number of C2A flows", len(res), len(corr))
        for w, c in zip(res, corr):
            check_eq("who and correlate: same process", w["process"], c["process"])
            check_eq("who and correlate: same ancestry length", len(w["ancestry"]),
                     len(c["ancestry"]))
            for i, (wa, ca) in enumerate(zip(w["ancestry"], c["ancestry"])):
                check_eq("who and correlate: same ancestry[%d]" % i, wa, ca)
        res_b = json_lines(onmitsu("who", "--dst", C2B, "--log-dir", self.log_dir,
                                   "--json").stdout)
        check_eq("who --dst C2B flows", sorted((r["flow"]["proto"], r["flow"]["src_port"],
                                                 r["flow"]["dst_port"], r["process"]["pid"])
                                                for r in res_b),
                 sorted([("tcp", self.gc_b["sport"], C2B_PORT, self.gc["pid"]),
                         ("udp", self.gc_u["sport"], C2B_PORT, self.gc["pid"])]))
        for r in res_b:
            self.check_cc_chain("who --dst C2B " + r["flow"]["proto"], r)
        # the whole C&C net at once, with a prefix
        res_n = json_lines(onmitsu("who", "--dst", "203.0.113.10/31", "--log-dir",
                                   self.log_dir, "--json").stdout)
        check_eq("who --dst C&C prefix: flows", len(res_n), 4)

    def tree_shows_the_family(self):
        p = onmitsu("tree", "--pid", str(self.dropper["pid"]), "--log-dir", self.log_dir,
                    "--json")
        nodes = json_lines(p.stdout)
        target = one([n for n in nodes if n["role"] == "target"], "tree target")
        check_eq("tree target pid", target["pid"], self.dropper["pid"])
        check_eq("tree target guid", target["guid"], self.dropper["guid"])
        check_eq("tree target exe", target["exe"], self.s["orig"])
        desc = [n for n in nodes if n["role"] == "descendant"]
        check_eq("tree descendants (pid, depth, exe)",
                 [(n["pid"], n["depth"] - target["depth"], n["exe"]) for n in desc],
                 [(self.stage1["pid"], 1, self.s["copy"]), (self.gc["pid"], 2, self.s["copy"])])
        check_eq("tree descendants' guids", [n["guid"] for n in desc],
                 [self.stage1["guid"], self.gc["guid"]])
        gc_flows = sorted((f["proto"], f["src_port"], f["dst_ip"], f["dst_port"])
                          for f in desc[1]["flows"])
        check_eq("tree: the grandchild's flows", gc_flows,
                 sorted([("tcp", self.gc_a["sport"], C2A, C2A_PORT),
                         ("tcp", self.gc_b["sport"], C2B, C2B_PORT),
                         ("udp", self.gc_u["sport"], C2B, C2B_PORT)]))
        check_eq("tree: flows of the dropper and the first copy",
                 (target["flows"], desc[0]["flows"]), ([], []))
        anc = [n["pid"] for n in nodes if n["role"] == "ancestor"]
        if not anc or anc[-1] != os.getpid():
            raise AssertionError("tree ancestors do not end at this test: %r" % anc)
        # the table for people names the same processes and flows
        t = onmitsu("tree", "--pid", str(self.dropper["pid"]), "--log-dir", self.log_dir).stdout
        pos = []
        for s in ("* %d %s" % (self.dropper["pid"], self.s["orig"]),
                  "%d %s" % (self.stage1["pid"], self.s["copy"]),
                  "%d %s" % (self.gc["pid"], self.s["copy"]),
                  "%s:%d -> %s:%d" % (HOST4, self.gc_a["sport"], C2A, C2A_PORT),
                  "%s:%d -> %s:%d" % (HOST4, self.gc_b["sport"], C2B, C2B_PORT)):
            if s not in t:
                raise AssertionError("tree table does not show %r:\n%s" % (s, t))
            pos.append(t.index(s))
        check_eq("tree table order", pos, sorted(pos))

    def timeline_shows_the_family_in_order(self):
        p = onmitsu("timeline", "--guid", self.dropper["guid"], "--descendants", "--log-dir",
                    self.log_dir, "--json")
        recs = json_lines(p.stdout)
        fam = {self.dropper["pid"], self.stage1["pid"], self.gc["pid"]}
        strangers = [r for r in recs if r.get("pid") not in fam]
        check_eq("timeline records of other processes", strangers, [])
        seqs = [r["seq"] for r in recs]
        check_eq("timeline in log order", seqs, sorted(seqs))
        d, s1, g = self.dropper["pid"], self.stage1["pid"], self.gc["pid"]
        key = [(r["event"], r["pid"], r.get("exe") if r["event"] == "EXEC" else
                (r.get("proto"), r.get("dst_ip"), r.get("dst_port"), r.get("src_port"))
                if r["event"] == "NET" else None)
               for r in recs if r["event"] in ("EXEC", "FORK", "EXIT", "NET")]
        fork_d, exec_d = ("FORK", d, None), ("EXEC", d, self.s["orig"])
        fork_s1, exec_s1 = ("FORK", s1, None), ("EXEC", s1, self.s["copy"])
        fork_g, exec_g = ("FORK", g, None), ("EXEC", g, self.s["copy"])
        exit_d, exit_s1, exit_g = ("EXIT", d, None), ("EXIT", s1, None), ("EXIT", g, None)
        net_a = ("NET", g, ("tcp", C2A, C2A_PORT, self.gc_a["sport"]))
        net_b = ("NET", g, ("tcp", C2B, C2B_PORT, self.gc_b["sport"]))
        net_u = ("NET", g, ("udp", C2B, C2B_PORT, self.gc_u["sport"]))
        want = [fork_d, exec_d, fork_s1, exec_s1, fork_g, exec_g, exit_s1, exit_d, net_a, net_b,
                net_u, exit_g]
        check_eq("timeline: the family's records", sorted(key, key=repr), sorted(want, key=repr))
        # what must come before what (the grandchild's exec races its parent's exit)
        for a, b in ((fork_d, exec_d), (exec_d, fork_s1), (fork_s1, exec_s1), (exec_s1, fork_g),
                     (fork_g, exec_g), (fork_g, exit_s1), (exit_s1, exit_d), (exec_g, net_a),
                     (exit_s1, net_a), (net_a, net_b), (net_b, net_u), (net_u, exit_g)):
            if key.index(a) > key.index(b):
                raise AssertionError("timeline: %r comes after %r:\n%s" %
                                     (a, b, "\n".join(map(repr, key))))
        for r in recs:
            check_eq("timeline guid of pid %d" % r["pid"], r["guid"],
                     {d: self.dropper["guid"], s1: self.stage1["guid"],
                      g: self.gc["guid"]}[r["pid"]])


CHECKS = ["scenario_ran_as_planned", "log_has_the_family", "correlate_attributes_every_flow",
          "correlate_cc_ancestry_leads_to_the_dropper",
          "correlate_reused_port_goes_to_the_second_process", "correlate_csv_and_table_agree",
          "who_dst_says_the_same", "tree_shows_the_family", "timeline_shows_the_family_in_order"]


def main():
    t0 = time.time()
    rc = harness.needs_root("investigation", "the investigation tests")
    if rc is not None:
        return rc
    if not os.access(TCPDUMP, os.X_OK):
        print("FAIL investigation: the investigation test needs tcpdump "
              "(scripts/setup installs it)")
        print("0 passed, 1 failed")
        return 1
    for tool in (ONMITSU, PROBE, DROPPER):
        if not os.access(tool, os.X_OK):
            print("FAIL investigation: %s is missing; run make first" % tool)
            print("0 passed, 1 failed")
            return 1
    results = []
    tmp = tempfile.mkdtemp(prefix="onm-inv-")
    listener = None
    try:
        try:
            netns_up()
            listener = subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, "-c",
                                         LISTENER], stdout=subprocess.PIPE, text=True)
            if listener.stdout.readline().strip() != "ready":
                raise AssertionError("the namespace's listener did not start")
            s = run_scenario(tmp)
        except Exception:
            results.append(("scenario", traceback.format_exc()))
            s = None
        if s:
            c = Checks(s)
            for name in CHECKS:
                try:
                    getattr(c, name)()
                    results.append((name, None))
                except Exception:
                    results.append((name, traceback.format_exc()))
        if any(e for _, e in results):
            keep = os.path.join(ROOT, "build", "investigation-failed")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(tmp, keep, ignore=shutil.ignore_patterns("*.exe", "svch0st"))
            print("  (the log and capture of the failed run are kept in %s)" % keep)
    finally:
        if listener:
            listener.kill()
            listener.wait()
        netns_down()
        shutil.rmtree(tmp, ignore_errors=True)
    print("  (%.1f s)" % (time.time() - t0))
    return harness.report("investigation", results)


if __name__ == "__main__":
    sys.exit(main())
