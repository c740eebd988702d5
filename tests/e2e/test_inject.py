#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end test of INJECT (issue 10, "Who acted through it"): programs whose
actions the test knows act through other processes, and the victims then
connect to a listener in a network namespace. The log must hold each INJECT
with the actor, the target and the method, repeats summarised with exact
counts, and `who --dst` on each victim's flow must name the injector (pid,
guid, exe, method); `tree` and `timeline` must show it on both sides.

- ptrace: PTRACE_ATTACH, 2000 x POKETEXT (one record with count=1, then counts
  that add up to 2000), SETREGS;
- /proc/PID/mem written the way gdb does (open O_RDWR, pwrite), by path and by
  openat(dirfd of /proc/PID, "mem"); a read-only open is not an INJECT;
- process_vm_writev into a child;
- a JIT: 50 x (mmap RW, write, mprotect RX): wx_memory, first then counted;
- LD_PRELOAD and LD_LIBRARY_PATH at exec (the value in detail);
- ld.so.preload opened for writing (in a tmpfs of the test's own, as a
  container's /etc), and given a file by rename, link and symlink;
- the 32-bit gate: POKEDATA through int $0x80 (skipped where the gate is
  closed).

The remote host is a network namespace with TEST-NET-1 addresses
(192.0.2.64/29); no traffic leaves the machine. Needs root. Ends with
"N passed, N failed[, N skipped]". Usage: tests/e2e/test_inject.py [SUBSTRING]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import run as e2e  # noqa: E402

ONMITSU = e2e.ONMITSU
INJECTOR = os.path.join(e2e.ROOT, "build", "e2e", "injector")
check_eq, one, sh = e2e.check_eq, e2e.one, e2e.sh
Skip = harness.Skip

HOST4, PEER4 = "192.0.2.65", "192.0.2.66"
NET = harness.Netns("inj", HOST4, [PEER4], 29)
PORTS = {"ptrace": 7001, "procmem": 7002, "vmwrite": 7003, "jit": 7004, "preload": 7005,
         "dup": 7006}
POKES = 2000
JITS = 50

# listens, never accepts (a remote host: no records of its own); bounded
LISTENER = r"""
import socket, time
socks = []
for port in %r:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64); socks.append(s)
print("ready", flush=True)
time.sleep(300)
""" % (sorted(PORTS.values()),)


def kv(line):
    return dict(x.split("=", 1) for x in line.split())


def run_injector(*args, env=None, key=None):
    """Its line: the first, or the one with key= (a child prints lines too)."""
    p = subprocess.run([INJECTOR, *map(str, args)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30, env=env)
    if p.returncode != 0:
        raise AssertionError("injector %s: exit %d: %s" % (" ".join(map(str, args)),
                                                            p.returncode, p.stderr))
    lines = p.stdout.strip().splitlines()
    return kv(next((l for l in lines if key + "=" in l), "") if key else lines[0])


class Victim:
    """injector victim: says its pid and addresses, waits, then connects."""

    def __init__(self, port, env=None, how=("victim",)):
        self.proc = subprocess.Popen([INJECTOR, *how, PEER4, str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.info = kv(self.proc.stdout.readline())
        self.pid = int(self.info["pid"])

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        out = kv(self.proc.stdout.readline())
        self.proc.wait(timeout=10)
        if self.proc.returncode != 0 or out.get("connected") != "0":
            raise AssertionError("victim: exit %s, %r: %s" % (self.proc.returncode, out,
                                                               self.proc.stderr.read()))
        return out


def run_scenarios(tmp):
    """Everything the test does while one recorder runs; returns what it knows."""
    s = {}
    # ptrace: attach, pokes, setregs
    v = Victim(PORTS["ptrace"])
    s["ptrace"] = {"victim": v.pid,
                   "actor": run_injector("ptrace", v.pid, v.info["addr"], POKES)}
    # the 32-bit gate: attach + POKEDATA through int $0x80, into the same victim
    if e2e.compat_gate_open():
        s["int80"] = {"victim": v.pid,
                      "actor": run_injector("ptrace-int80", v.pid, v.info["addr32"])}
    v.go()
    # /proc/PID/mem by path and relative; a read-only open besides
    v = Victim(PORTS["procmem"])
    s["procmem"] = {"victim": v.pid,
                    "actor": run_injector("procmem", v.pid, v.info["addr"]),
                    "actor_rel": run_injector("procmem-rel", v.pid, v.info["addr"])}
    with open("/proc/%d/mem" % v.pid, "rb") as f:
        f.seek(int(v.info["addr"], 16))
        f.read(8)
    s["reader"] = os.getpid()
    v.go()
    # process_vm_writev into a child, which then connects
    s["vmwrite"] = run_injector("vmwrite", PEER4, PORTS["vmwrite"], key="written")
    # a JIT
    s["jit"] = run_injector("jit", JITS, PEER4, PORTS["jit"])
    # LD_PRELOAD (a library that is there: the C library itself) and LD_LIBRARY_PATH
    libc = next(l.split()[-1] for l in open("/proc/self/maps") if "libc.so" in l)
    env = dict(os.environ, LD_PRELOAD=libc, LD_LIBRARY_PATH="/opt/a b:/opt/c")
    v = Victim(PORTS["preload"], env=env)
    s["preload"] = {"victim": v.pid, "lib": libc}
    v.go()
    # LD_PRELOAD twice in one environment: the record names the one the loader uses
    v = Victim(PORTS["dup"], how=("dup-preload", libc))
    s["dup"] = {"victim": v.pid, "lib": libc}
    v.go()
    # ld.so.preload opened for writing, in a tmpfs of our own (as a container's /etc)
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    sh("mount", "-t", "tmpfs", "-o", "size=1m", "onm-inject", root)
    try:
        os.mkdir(os.path.join(root, "etc"))
        pre = os.path.join(root, "etc", "ld.so.preload")
        with open(pre, "w"):
            pass
        p = subprocess.run(["/bin/sh", "-c", ": >> %s; echo $$" % pre],
                           stdout=subprocess.PIPE, text=True, timeout=10, check=True)
        s["ldso"] = {"actor": int(p.stdout.strip()), "self": os.getpid()}
        # ... and given a file by a new name: rename over it, a hard link and a
        # symbolic link of that name; names that only resemble it do not count
        p = subprocess.run([sys.executable, "-c", NEW_NAMES, root], stdout=subprocess.PIPE,
                           text=True, timeout=10, check=True)
        s["ldso_names"] = {"actor": int(p.stdout.strip())}
    finally:
        sh("umount", root, check=False)
    return s


NEW_NAMES = r"""
import os, sys
os.chdir(sys.argv[1])
os.mkdir("sub")
for n in ("a", "b", "c", "d"):
    open(n, "w").close()
os.rename("a", "etc/ld.so.preload")            # over the file, by a relative name
os.link("b", "ld.so.preload")                   # a hard link, in another directory
os.symlink("/nonexistent", "sub/ld.so.preload")  # a symbolic link
os.rename("c", "etc/ld.so.preload.bak")         # not the name
os.rename("d", "etc/xld.so.preload")            # not the name either
print(os.getpid())
"""


def injects(log, **kw):
    return log.find(event="INJECT", **kw)


def counted(recs):
    """The sum of a series' counts; each record must say count=N."""
    total = 0
    for r in recs:
        d = dict(x.split("=", 1) for x in r["detail"].split())
        total += int(d["count"])
    return total


def guid_of(log, pid, exe=None):
    recs = [r for r in log.find(pid=pid) if r["event"] in ("EXEC", "FORK") and
            (exe is None or r["exe"] == exe)]
    if not recs:
        raise AssertionError("no EXEC/FORK for pid %s in the log" % pid)
    return recs[-1]["guid"]


def onmitsu(*args):
    p = sh(ONMITSU, *args, check=False)
    if p.returncode != 0:
        raise AssertionError("onmitsu %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                          p.stderr))
    return p.stdout


def who(log_dir, port):
    out = onmitsu("who", "-d", log_dir, "--dst", "%s:%d" % (PEER4, port), "--json")
    return one([json.loads(l) for l in out.splitlines() if l.strip()], "who --dst :%d" % port)


def check_injected_by(answer, victim_pid, actor_pid, actor_guid, methods):
    check_eq("who: the flow's process", answer["process"]["pid"], victim_pid)
    by = answer.get("injected_by")
    if not by:
        raise AssertionError("who: no injected_by for pid %d: %r" % (victim_pid, answer))
    for m, count in methods.items():
        e = [x for x in by if x["method"] == m and x["pid"] == actor_pid]
        e = one(e, "injected_by %s by %d" % (m, actor_pid))
        check_eq("injected_by %s guid" % m, e["guid"], actor_guid)
        check_eq("injected_by %s exe" % m, e["exe"], INJECTOR)
        if count is not None:
            check_eq("injected_by %s count" % m, e["count"], count)
        if not e["time"] or e["time"] > answer["flow"]["time"]:
            raise AssertionError("injected_by %s time %r not before the flow's %r" %
                                 (m, e["time"], answer["flow"]["time"]))


class Checks:
    def __init__(self, s, log, log_dir):
        self.s, self.log, self.log_dir = s, log, log_dir

    def ptrace_records(self):
        x = self.s["ptrace"]
        actor, victim = int(x["actor"]["pid"]), x["victim"]
        tguid = guid_of(self.log, victim, INJECTOR)
        aguid = guid_of(self.log, actor, INJECTOR)
        for m in ("ptrace_attach", "ptrace_setregs"):
            r = one(injects(self.log, pid=actor, result=m), m)
            check_eq(m + " target_pid", r["target_pid"], str(victim))
            check_eq(m + " target_guid", r["target_guid"], tguid)
            check_eq(m + " guid", r["guid"], aguid)
            check_eq(m + " detail", r["detail"], "count=1")
        pokes = injects(self.log, pid=actor, result="ptrace_poketext")
        check_eq("pokes: the first has count=1", pokes[0]["detail"], "count=1")
        check_eq("pokes counted", counted(pokes), POKES)
        if len(pokes) > 4:
            raise AssertionError("%d pokes gave %d records, want the first and a few "
                                 "summaries" % (POKES, len(pokes)))
        for r in pokes:
            check_eq("poke target", r["target_guid"], tguid)

    def ptrace_who(self):
        x = self.s["ptrace"]
        actor, victim = int(x["actor"]["pid"]), x["victim"]
        a = who(self.log_dir, PORTS["ptrace"])
        check_injected_by(a, victim, actor, guid_of(self.log, actor, INJECTOR),
                          {"ptrace_attach": 1, "ptrace_poketext": POKES, "ptrace_setregs": 1})

    def ptrace_table_tree_timeline(self):
        x = self.s["ptrace"]
        actor, victim = int(x["actor"]["pid"]), x["victim"]
        out = onmitsu("who", "-d", self.log_dir, "--dst", "%s:%d" % (PEER4, PORTS["ptrace"]))
        line = "injected  ptrace_poketext by %d %s" % (actor, INJECTOR)
        if line not in out or "(%d times)" % POKES not in out:
            raise AssertionError("who's table lacks %r (%d times):\n%s" % (line, POKES, out))
        tguid = guid_of(self.log, victim, INJECTOR)
        tree = [json.loads(l) for l in
                onmitsu("tree", "-d", self.log_dir, "--guid", tguid, "--json").splitlines()]
        me = one([t for t in tree if t["guid"] == tguid], "tree: the victim")
        if not any(b["method"] == "ptrace_attach" and b["pid"] == actor
                   for b in me.get("injected_by", [])):
            raise AssertionError("tree --json: no injected_by ptrace_attach: %r" % me)
        if line not in onmitsu("tree", "-d", self.log_dir, "--guid", tguid):
            raise AssertionError("tree's table lacks %r" % line)
        aguid = guid_of(self.log, actor, INJECTOR)
        for g in (tguid, aguid):
            tl = onmitsu("timeline", "-d", self.log_dir, "--guid", g)
            want = "INJECT    %7d  %s  ptrace_attach -> %d %s (guid %s)" % (
                actor, INJECTOR, victim, INJECTOR, tguid)
            if want not in tl:
                raise AssertionError("timeline --guid %s lacks %r:\n%s" % (g, want, tl))

    def int80(self):
        if "int80" not in self.s:
            raise Skip("the kernel's 32-bit system call gate is closed here (int $0x80 raises "
                       "SIGSEGV): no process can make such a call, so there is nothing to record")
        x = self.s["int80"]
        actor, victim = int(x["actor"]["pid"]), x["victim"]
        r = one(injects(self.log, pid=actor, result="ptrace_pokedata"),
                "POKEDATA through int $0x80")
        check_eq("int80 target", r["target_guid"], guid_of(self.log, victim, INJECTOR))

    def procmem(self):
        x = self.s["procmem"]
        victim = x["victim"]
        tguid = guid_of(self.log, victim, INJECTOR)
        a = who(self.log_dir, PORTS["procmem"])
        for key in ("actor", "actor_rel"):
            actor = int(x[key]["pid"])
            r = one(injects(self.log, pid=actor, result="proc_mem_write"), "proc_mem_write " + key)
            check_eq("proc_mem_write target", r["target_guid"], tguid)
            check_injected_by(a, victim, actor, guid_of(self.log, actor, INJECTOR),
                              {"proc_mem_write": 1})
        check_eq("a read-only open of mem", injects(self.log, pid=self.s["reader"],
                                                    result="proc_mem_write"), [])

    def vmwrite(self):
        x = self.s["vmwrite"]
        actor, child = int(x["pid"]), int(x["child"])
        check_eq("bytes written", x["written"], "8")
        r = one(injects(self.log, pid=actor, result="process_vm_writev"), "process_vm_writev")
        check_eq("process_vm_writev target", r["target_pid"], str(child))
        a = who(self.log_dir, PORTS["vmwrite"])
        check_eq("the child's guid", r["target_guid"], a["process"]["guid"])
        check_injected_by(a, child, actor, guid_of(self.log, actor, INJECTOR),
                          {"process_vm_writev": 1})

    def evidence_for_acting_on_others_not_for_jit(self):
        """the evidence rule "inject": the ptrace actor and its victim are kept;
        a JIT's wx_memory keeps nothing"""
        ev = self.log.find(event="EVIDENCE")
        x = self.s["ptrace"]
        for who, pid in (("actor", int(x["actor"]["pid"])), ("victim", x["victim"])):
            mine = [r for r in ev if r["pid"] == str(pid) or
                    (who == "victim" and "inject_target:" in r["detail"] and
                     r["guid"] == guid_of(self.log, pid, INJECTOR))]
            if not mine:
                raise AssertionError("no EVIDENCE for the ptrace %s %d: %r" % (who, pid, ev))
        # the JIT may be kept by another rule (suspicious-exe-net when the
        # tree, and so the injector, is under /tmp), never by inject
        jit = str(int(self.s["jit"]["pid"]))
        bad = [r for r in ev if (r["pid"] == jit and "rule=inject" in r["detail"]) or
               "wx_memory" in r["detail"] or "anon_exec" in r["detail"]]
        if bad:
            raise AssertionError("evidence kept for a JIT's own executable memory: %r" % bad)

    def jit(self):
        pid = int(self.s["jit"]["pid"])
        recs = injects(self.log, pid=pid, result="wx_memory")
        if not recs:
            raise AssertionError("no wx_memory for the JIT")
        check_eq("wx: first count=1", recs[0]["detail"], "count=1")
        check_eq("wx counted", counted(recs), JITS)
        check_eq("wx target is itself", recs[0]["target_pid"], str(pid))
        check_eq("no anon_exec (the memory was written first)",
                 injects(self.log, pid=pid, result="anon_exec"), [])
        a = who(self.log_dir, PORTS["jit"])
        check_injected_by(a, pid, pid, guid_of(self.log, pid, INJECTOR), {"wx_memory": JITS})

    def preload(self):
        x = self.s["preload"]
        victim = x["victim"]
        r = one(injects(self.log, pid=victim, result="ld_preload"), "ld_preload")
        check_eq("ld_preload value", r["detail"], "value=" + x["lib"])
        check_eq("ld_preload target", r["target_pid"], str(victim))
        r = one(injects(self.log, pid=victim, result="ld_library_path"), "ld_library_path")
        check_eq("ld_library_path value (spaces kept)", r["detail"], "value=/opt/a b:/opt/c")
        a = who(self.log_dir, PORTS["preload"])
        check_injected_by(a, victim, victim, guid_of(self.log, victim, INJECTOR),
                          {"ld_preload": 1, "ld_library_path": 1})

    def preload_twice(self):
        x = self.s["dup"]
        r = one(injects(self.log, pid=x["victim"], result="ld_preload"), "ld_preload (twice)")
        check_eq("the last LD_PRELOAD, which the loader uses", r["detail"], "value=" + x["lib"])

    def ld_so_preload(self):
        x = self.s["ldso"]
        r = one(injects(self.log, pid=x["actor"], result="ld_so_preload"),
                "ld_so_preload by the shell")
        check_eq("ld_so_preload has no target", r["target_pid"], "")
        # the test itself created it (O_WRONLY|O_CREAT): also an open for writing
        one(injects(self.log, pid=x["self"], result="ld_so_preload"), "ld_so_preload by the test")

    def ld_so_preload_new_name(self):
        x = self.s["ldso_names"]
        got = sorted((r["path"], r["detail"], r["target_pid"])
                     for r in injects(self.log, pid=x["actor"]))
        check_eq("ld_so_preload by a new name", got,
                 [("etc/ld.so.preload", "via=rename", ""),
                  ("ld.so.preload", "via=link", ""),
                  ("sub/ld.so.preload", "via=symlink", "")])
        for r in injects(self.log, pid=x["actor"]):
            check_eq("method", r["result"], "ld_so_preload")


CHECKS = [n for n in Checks.__dict__ if not n.startswith("_")]


def main():
    if os.geteuid() != 0:
        return harness.needs_root("inject", "the INJECT tests")
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="onm-inject-")
    results = []
    listener = None
    try:
        NET.up()
        listener = subprocess.Popen(NET.exec + ["python3", "-c", LISTENER],
                                    stdout=subprocess.PIPE, text=True)
        if listener.stdout.readline().strip() != "ready":
            raise AssertionError("the namespace's listener did not start")
        log_dir = os.path.join(tmp, "log")
        rec = e2e.Recorder(log_dir)
        try:
            s = run_scenarios(tmp)
        finally:
            log = rec.stop()
        c = Checks(s, log, log_dir)
        for name in CHECKS:
            if only in name:
                results.append(harness.run_test(name, getattr(c, name)))
    except Exception:
        import traceback
        results.append(("scenario", traceback.format_exc()))
    finally:
        if listener:
            listener.kill()
            listener.wait()
        NET.down()
        harness.kill_leftovers()
        if any(e and not isinstance(e, Skip) for _, e in results):
            keep = os.path.join(e2e.ROOT, "build", "inject-failed")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(tmp, keep, ignore=shutil.ignore_patterns("root"))
            print("  (the log of the failed run is kept in %s)" % keep)
        shutil.rmtree(tmp, ignore_errors=True)
    print("  (%.1f s)" % (time.time() - t0))
    return harness.report("inject", results)


if __name__ == "__main__":
    sys.exit(main())
