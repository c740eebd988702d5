#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of what `onmitsu verify` vouches for (issue 8), on logs
recorded here by the real recorder with a key made by `onmitsu keygen`:

- a forged segment file and a symbolic link named like a segment, dropped into
  the log directory, are found by verify and not shown by who or cat;
- the log cut back to an earlier clean stop (a whole later run removed) is
  found with --seal-key and --min-epoch, and once recording resumed, by the
  next START alone;
- after the segments before it are gone, an edit of the first remaining
  record (a START that began a segment after a crash) is found.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_tamper.py [NAME-SUBSTRING]
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import run as e2e  # noqa: E402
import test_lifecycle as life  # noqa: E402

ONMITSU = e2e.ONMITSU
check_eq = e2e.check_eq
HEADER = ",".join(e2e.COLUMNS)  # with chain


def onmitsu(*args):
    return subprocess.run([ONMITSU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120)


def forged_log():
    """a small log of its own, chained from the seed: a process and its flow
    to 203.0.113.66:4444 that nothing on the host made"""
    guid = "6f1c7a69-0000-4000-8000-000000007a69"
    lines = [
        "2026-11-25T19:20:00.000000Z,900000,EXEC,31337,1,%s,,0,/tmp/onmitsu-evil,"
        "/tmp/onmitsu-evil,,,,,,,,,," % guid,
        "2026-11-25T19:20:01.000000Z,900001,NET,31337,1,%s,,0,,,tcp,192.0.2.10,40000,"
        "203.0.113.66,4444,out,established,,," % guid,
    ]
    prev = "0" * 64
    out = [HEADER]
    for l in lines:
        prev = hashlib.sha256((prev + l).encode()).hexdigest()
        out.append(l + "," + prev)
    return "\n".join(out) + "\n"


def record_run(d, key, *extra, n=200):
    p = life.start_recorder(d, "--seal-key", key, "--compress-level", "0", *extra)
    life.storm(n)
    time.sleep(0.5)
    life.stop_recorder(p)


def last_seal_epoch(d):
    seals = [r for r in life.all_records(d) if r["event"] == "SEAL"]
    m = re.search(r"\bepoch=(\d+)", seals[-1]["detail"])
    return int(m.group(1))


def key_epoch(key):
    with open(key) as f:
        return int(re.search(r"^epoch=(\d+)$", f.read(), re.M).group(1))


# ---------------------------------------------------------------- tests

def test_forged_segment_and_link_found_by_verify_not_shown_by_who():
    tmp = tempfile.mkdtemp(prefix="onm-tamper-")
    try:
        d = os.path.join(tmp, "log")
        key, vk = life.keygen(tmp)
        record_run(d, key, "--rotate-size", "16K")
        v = life.verify(d, "--key", vk)
        check_eq("verify of the recorded log (%s)" % v.stdout, v.returncode, 0)
        forged = forged_log()
        with open(os.path.join(d, "onmitsu-forged.csv"), "w") as f:
            f.write(forged)
        outside = os.path.join(tmp, "elsewhere.csv")
        with open(outside, "w") as f:
            f.write(forged)
        link = "onmitsu-20261125T192000.000000Z-000000900000.csv"  # a segment's very name
        os.symlink(outside, os.path.join(d, link))

        who = onmitsu("who", "--dst", "203.0.113.66", "--json", "--log-dir", d)
        if "203.0.113.66" in who.stdout or "31337" in who.stdout:
            raise AssertionError("who shows the forged flow: %s" % who.stdout)
        for name, why in (("onmitsu-forged.csv", "not a name the recorder gives"),
                          (link, "a symbolic link")):
            want = "%s/%s is not part of the log: %s" % (d, name, why)
            if want not in who.stderr:
                raise AssertionError("who does not warn %r: %s" % (want, who.stderr))
        cat = onmitsu("cat", "--log-dir", d)
        check_eq("cat exit status (%s)" % cat.stderr[-300:], cat.returncode, 0)
        if "onmitsu-evil" in cat.stdout:
            raise AssertionError("cat prints the forged records")

        v = life.verify(d, "--key", vk)
        check_eq("verify exit status with the forged files (%s)" % v.stdout, v.returncode, 1)
        for name, why in (("onmitsu-forged.csv", "not a name the recorder gives"),
                          (link, "a symbolic link")):
            if "BAD %s: not part of the log: %s" % (name, why) not in v.stdout:
                raise AssertionError("verify does not report %s: %s" % (name, v.stdout))
        if "NOT INTACT: 2 problems" not in v.stdout:
            raise AssertionError(v.stdout)
        os.unlink(os.path.join(d, link))
        os.unlink(os.path.join(d, "onmitsu-forged.csv"))
        v = life.verify(d, "--key", vk)
        check_eq("verify once they are gone (%s)" % v.stdout, v.returncode, 0)
    finally:
        life.kill_leftovers()
        life.clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def test_rollback_to_an_earlier_stop_found_with_the_seal_key():
    tmp = tempfile.mkdtemp(prefix="onm-tamper-")
    try:
        d = os.path.join(tmp, "log")
        key, vk = life.keygen(tmp)
        # run 1, a clean stop: keep the state it left
        record_run(d, key, "--rotate-size", "16K")
        then = set(os.listdir(d))
        with open(os.path.join(d, "onmitsu.csv"), "rb") as f:
            active_then = f.read()
        e1 = last_seal_epoch(d)
        check_eq("key epoch after a clean stop", key_epoch(key), e1 + 1)
        v = life.verify(d, "--key", vk, "--seal-key", key, "--min-epoch", str(e1))
        check_eq("verify after run 1 (%s)" % v.stdout, v.returncode, 0)
        # run 2, rotating: later segments and more records in the active one
        record_run(d, key, "--rotate-size", "16K", "--seal-interval", "1s")
        e2 = last_seal_epoch(d)
        if e2 <= e1 + 1:
            raise AssertionError("run 2 sealed epochs %d..%d only" % (e1 + 1, e2))
        v = life.verify(d, "--key", vk, "--seal-key", key, "--min-epoch", str(e2))
        check_eq("verify after run 2 (%s)" % v.stdout, v.returncode, 0)

        # cut back to run 1's stop
        for n in set(os.listdir(d)) - then:
            if life.SEGMENT.match(n):
                os.unlink(os.path.join(d, n))
        with open(os.path.join(d, "onmitsu.csv"), "wb") as f:
            f.write(active_then)
        v = life.verify(d, "--key", vk)
        check_eq("the cut-back log's chain and seals (%s)" % v.stdout, v.returncode, 0)
        v = life.verify(d, "--key", vk, "--seal-key", key)
        check_eq("verify --seal-key of the cut-back log (%s)" % v.stdout, v.returncode, 1)
        want = ("the sealing key is at epoch %d but the log's last seal has epoch %d: the seals "
                "of epochs %d..%d are not in the log" % (e2 + 1, e1, e1 + 1, e2))
        if want not in v.stdout:
            raise AssertionError("verify does not say %r: %s" % (want, v.stdout))
        v = life.verify(d, "--key", vk, "--min-epoch", str(e2))
        check_eq("verify --min-epoch of the cut-back log (%s)" % v.stdout, v.returncode, 1)
        if "was seen (--min-epoch): the log was cut back" not in v.stdout:
            raise AssertionError(v.stdout)

        # recording resumes on the cut-back log: its START gives it away
        record_run(d, key, n=20)
        v = life.verify(d, "--key", vk)
        check_eq("verify after recording resumed (%s)" % v.stdout, v.returncode, 1)
        want = ("START with sealing key epoch %d right after a clean stop sealed with epoch %d"
                % (e2 + 1, e1))
        if want not in v.stdout:
            raise AssertionError("verify does not say %r: %s" % (want, v.stdout))
    finally:
        life.kill_leftovers()
        life.clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def test_first_remaining_record_edit_found_after_older_segments_expired():
    """kill -9, a restart that begins a segment of its own with START; the segments before it
    expire (removed here as retention removes them); then START is edited"""
    tmp = tempfile.mkdtemp(prefix="onm-tamper-")
    try:
        d = os.path.join(tmp, "log")
        key, vk = life.keygen(tmp)
        p = life.start_recorder(d, "--seal-key", key, "--compress-level", "0",
                                "--rotate-size", "16K")
        life.storm(200)
        time.sleep(0.5)
        p.kill()  # SIGKILL
        life.clear_attrs(tmp)  # a crash leaves the append-only flag
        record_run(d, key, n=50)
        names = life.segment_files(d)
        if len(names) < 2 or names[-1] != "onmitsu.csv":
            raise AssertionError("segments after the restart: %r" % names)
        first = life.all_records(d)
        restart = [r for r in first if r["event"] == "START"][-1]
        check_eq("the restart begins the active segment", restart["_file"], "onmitsu.csv")
        if "previous_end=crash" not in restart["detail"]:
            raise AssertionError("not a restart after a crash: %r" % restart["detail"])
        for n in names[:-1]:
            os.unlink(os.path.join(d, n))
        v = life.verify(d, "--key", vk)
        check_eq("verify of what is left (%s)" % v.stdout, v.returncode, 0)

        path = os.path.join(d, "onmitsu.csv")
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        lines = text.split("\n")
        check_eq("the first record kept", lines[1].split(",")[2], "START")
        edited = re.sub(r"ring_bytes=(\d)", lambda m: "ring_bytes=%d" % ((int(m.group(1)) + 1) % 10),
                        lines[1], count=1)
        if edited == lines[1]:
            raise AssertionError("no ring_bytes= in START: %r" % lines[1])
        lines[1] = edited
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines))
        v = life.verify(d, "--key", vk)
        check_eq("verify after START was edited (%s)" % v.stdout, v.returncode, 1)
        if "onmitsu.csv:2 (seq %s): edited" % restart["seq"] not in v.stdout:
            raise AssertionError("verify does not name START as edited: %s" % v.stdout)
    finally:
        life.kill_leftovers()
        life.clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_forged_segment_and_link_found_by_verify_not_shown_by_who,
         test_rollback_to_an_earlier_stop_found_with_the_seal_key,
         test_first_remaining_record_edit_found_after_older_segments_expired]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-tamper", "tamper tests")
    if rc is not None:
        return rc
    if not os.access(ONMITSU, os.X_OK):
        print("FAIL e2e-tamper: %s is missing; run make setup all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-tamper", results)


if __name__ == "__main__":
    sys.exit(main())
