#!/usr/bin/env python3
"""Runs one benchmark process and records how much the machine disturbed it.

  python3 bench/run_job.py --results R.jsonl --job ort/short/b32 [--nice N] \\
      [--max-wait 120] -- node bench_ort.mjs ... --bench

The command must print its result as one JSON object on the last line of
stdout (the peers' bench_*.{mjs,py} and `simile bench embed --json` do). This script adds
  job              the --job label
  load_before      cores busy before the start (sampled for 2 s)
  other_cpu_cores  cores used by everything else while the job ran: busy time
                   from /proc/stat minus the job's own CPU time, over wall time
  cpu_wait_frac    how long the job's threads were runnable but not running
                   (schedstat run_delay), over their time on a CPU
  clean            cpu_wait_frac <= --max-wait-frac
  nice, wall_s, time
and appends the record to --results. On a shared machine (see
../shared/peers/inference/RESULTS.md) other sessions' jobs can take a core;
the two figures say when that happened. --nice (negative needs root) lowers
the job's niceness, and with sched_autogroup also this session's autogroup's,
so the job pre-empts other sessions' work.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time


def busy_seconds():
    """CPU seconds the whole machine spent busy since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    steal = fields[7] if len(fields) > 7 else 0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def busy_cores(seconds):
    b0, t0 = busy_seconds(), time.monotonic()
    time.sleep(seconds)
    return (busy_seconds() - b0) / (time.monotonic() - t0)


class ThreadTimes:
    """Polls the per-thread schedstat of a running process (on-CPU ns, waiting ns)."""

    def __init__(self, pid, every=0.2):
        self.pid, self.every, self.last = pid, every, {}
        self.done = threading.Event()
        self.poller = threading.Thread(target=self._loop, daemon=True)
        self.poller.start()

    def _sample(self):
        task_dir = "/proc/%d/task" % self.pid
        try:
            tids = os.listdir(task_dir)
        except OSError:
            return
        for tid in tids:
            try:
                with open(os.path.join(task_dir, tid, "schedstat")) as f:
                    on_cpu, waiting = f.read().split()[:2]
                self.last[tid] = (int(on_cpu), int(waiting))
            except (OSError, ValueError):
                pass  # the thread ended between listdir and open

    def _loop(self):
        while not self.done.is_set():
            self._sample()
            self.done.wait(self.every)

    def finish(self):
        self.done.set()
        self.poller.join()
        return (sum(v[0] for v in self.last.values()) / 1e9,
                sum(v[1] for v in self.last.values()) / 1e9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--job", required=True)
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--max-wait", type=float, default=120,
                    help="seconds to wait for other load to drop below 0.3 cores")
    ap.add_argument("--max-wait-frac", type=float, default=0.05)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")
    if args.nice and os.path.exists("/proc/self/autogroup"):
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(args.nice))
        except OSError as e:
            print("run_job: cannot set the autogroup's nice: %s" % e, file=sys.stderr)

    deadline = time.monotonic() + args.max_wait
    load = busy_cores(2.0)
    while load > 0.3 and time.monotonic() < deadline:
        print("run_job: others use %.2f cores; waiting" % load, file=sys.stderr)
        time.sleep(10)
        load = busy_cores(2.0)

    nice = args.nice
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, t0 = busy_seconds(), time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, nice))
    times = ThreadTimes(proc.pid)
    out, _ = proc.communicate()
    on_cpu, waiting = times.finish()
    wall = time.monotonic() - t0
    busy = busy_seconds() - b0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        print("run_job: %s failed (exit %d)" % (args.job, proc.returncode), file=sys.stderr)
        return 1
    lines = [l for l in out.splitlines() if l.strip().startswith("{")]
    if not lines:
        print("run_job: %s printed no JSON record" % args.job, file=sys.stderr)
        return 1
    rec = json.loads(lines[-1])
    wait_frac = waiting / on_cpu if on_cpu > 0 else 0.0
    rec.update({
        "job": args.job, "load_before": round(load, 2),
        "other_cpu_cores": round(max(0.0, busy - own) / wall, 3),
        "cpu_wait_frac": round(wait_frac, 4), "clean": wait_frac <= args.max_wait_frac,
        "nice": nice, "wall_s": round(wall, 1), "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    })
    with open(args.results, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print("%s %-22s %8.1f sent/s  cpu-wait %4.1f%%  others %.2f cores%s" % (
        time.strftime("%H:%M:%S"), args.job, rec.get("sent_per_s", rec.get("texts_per_s", 0)), 100 * wait_frac,
        rec["other_cpu_cores"], "" if rec["clean"] else "  (disturbed)"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
