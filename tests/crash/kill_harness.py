#!/usr/bin/env python3
"""Kills simile with SIGKILL at random moments of every kind of write, again
and again, and checks after each kill that nothing acknowledged was lost and
nothing is half-visible (docs/durability.md).

  kill_harness.py --bin build/simile --dir WORK [--kills N] [--seed S]

Operations, each started and then killed after a random delay (or let
finish when it is quicker):
  add       `simile add --events` of new documents and new versions of old
            ones; a document is acknowledged by the commit event naming it
  delete    `simile delete` of a few ids; acknowledged by exit status 0
  serve     `simile serve` taking upserts and deletes from 4 client threads;
            a write is acknowledged by its 200 answer
  reembed   `simile reembed` to the other precision (fp32 <-> int8)
  index     `simile index build --kind hnsw` with another M
  compact   deletes a third of the documents, then a search, whose opening
            of the graph catches it up and compacts the tombstones
  keywords  `simile index rebuild` with another analyzer

After every kill: SQLite's integrity and foreign-key checks; each document
holds a version it may hold (acknowledged writes are there, deletes gone, an
unacknowledged write is wholly old or wholly new); a delete command is all or
nothing; every document has its chunks and vectors of the right size and at
most one keyword entry. Every few kills also: a keyword search finds a
document by its unique word, a dense search by its text, the vector index
counts as many live nodes as the store has chunks, and stored vectors equal
`simile embed` of their text at the collection's precision. At the end every
operation runs to completion and the whole store is compared with the model.
Prints one line per kill and a summary; exits 1 on the first violation.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

COLLECTION = "crash"
WORDS = ("river mountain engine wing pressure flow heat cat dog bread oven database index query planet orbit "
         "moon storm rain garden tree music piano guitar code compiler memory disk market price bank loan "
         "train station ticket doctor fever school teacher book story").split()


class Violation(Exception):
    pass


class Harness:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.dir = os.path.abspath(args.dir)
        self.db = os.path.join(self.dir, "crash.db")
        self.rng = random.Random(args.seed)
        self.kills = args.kills
        self.check_every = args.check_every
        os.makedirs(self.dir, exist_ok=True)
        # id -> set of texts it may hold; None = may be absent.
        self.allowed = {}
        self.next_id = 0
        self.version = 0
        self.dtype = "fp32"
        self.analyzers = ["default", "english"]
        self.analyzer = "default"
        self.m = 16
        self.duration = {}  # operation -> longest uninterrupted run seen (s)
        self.counts = {}    # operation -> kills landed while it ran
        self.finished = {}  # operation -> runs that ended before the kill
        self.acked = 0
        self.final = False  # run every operation to its end
        self.inflight = set()  # ids a server client is writing (no two clients write one id at once)

    # ---- helpers -------------------------------------------------------------------------------------------

    def run(self, *cmd, input_text=None, check=True):
        p = subprocess.run([self.bin, *cmd, "--db", self.db] if cmd[0] not in ("embed",) else [self.bin, *cmd],
                           input=input_text, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise Violation("simile %s failed (%d): %s" % (" ".join(cmd[:3]), p.returncode, p.stderr.strip()[-800:]))
        return p

    def text_for(self, doc_id, version):
        r = random.Random(doc_id * 1000003 + version)
        body = " ".join(r.choice(WORDS) for _ in range(r.randint(5, 25)))
        # A word of its own, for the keyword check, and the version.
        return "%s zq%dx. version %d." % (body, doc_id, version)

    def write_docs(self, docs):
        path = os.path.join(self.dir, "docs.jsonl")
        with open(path, "w") as f:
            for doc_id, text in docs:
                f.write(json.dumps({"id": "d%d" % doc_id, "text": text, "n": doc_id}) + "\n")
        return path

    def start(self, *cmd, stdout=subprocess.DEVNULL):
        return subprocess.Popen([self.bin, *cmd, "--db", self.db], stdout=stdout, stderr=subprocess.PIPE,
                                text=True)

    def kill_after(self, op, proc, delay):
        """Waits `delay` seconds, then SIGKILLs proc unless it has ended. True when killed."""
        started = time.monotonic()
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.counts[op] = self.counts.get(op, 0) + 1
            # Until a run of op has been seen to finish, later kills may land later.
            self.duration[op] = max(self.duration.get(op, 2.0), delay * 1.2)
            return True
        elapsed = time.monotonic() - started
        self.duration[op] = max(self.duration.get(op, 0.0), elapsed)
        self.finished[op] = self.finished.get(op, 0) + 1
        err = proc.stderr.read() if proc.stderr else ""
        if proc.returncode != 0:
            raise Violation("%s exited %d without being killed: %s" % (op, proc.returncode, err.strip()[-800:]))
        return False

    def delay(self, op):
        if self.final:
            return 3600.0
        return self.rng.uniform(0.02, max(self.duration.get(op, 2.0), 0.3) * 1.1)

    def present_ids(self):
        return [i for i, a in self.allowed.items() if None not in a and i not in self.inflight]

    # ---- operations ----------------------------------------------------------------------------------------

    def op_add(self):
        docs = []
        for _ in range(self.rng.randint(20, 120)):
            if self.allowed and self.rng.random() < 0.5:
                doc_id = self.rng.choice(list(self.allowed))
            else:
                doc_id = self.next_id
                self.next_id += 1
            if any(d == doc_id for d, _ in docs):
                continue
            self.version += 1
            docs.append((doc_id, self.text_for(doc_id, self.version)))
        path = self.write_docs(docs)
        for doc_id, text in docs:
            self.allowed.setdefault(doc_id, {None}).add(text)
        out_path = os.path.join(self.dir, "events.jsonl")
        with open(out_path, "w") as out:
            proc = self.start("add", COLLECTION, path, "--id-field", "id", "--events", "--commit-every", "16",
                              "--meta-fields", "n", stdout=out)
            killed = self.kill_after("add", proc, self.delay("add"))
        texts = dict(docs)
        for line in open(out_path):
            try:
                ev = json.loads(line)
            except ValueError:
                continue  # cut by the kill: not an acknowledgement
            if ev.get("event") == "commit":
                for sid in ev["ids"]:
                    doc_id = int(sid[1:])
                    self.allowed[doc_id] = {texts[doc_id]}
                    self.acked += 1
        return killed

    def op_delete(self):
        present = self.present_ids()
        if len(present) < 10:
            return self.op_add()
        ids = self.rng.sample(present, self.rng.randint(1, 8))
        before = {i: set(self.allowed[i]) for i in ids}
        for i in ids:
            self.allowed[i].add(None)
        proc = self.start("delete", COLLECTION, *("d%d" % i for i in ids))
        killed = self.kill_after("delete", proc, self.delay("delete"))
        if not killed:
            for i in ids:
                self.allowed[i] = {None}
                self.acked += 1
        self.pending_delete = (ids, before, killed)
        return killed

    def op_serve(self):
        log = open(os.path.join(self.dir, "serve.log"), "w")
        proc = subprocess.Popen([self.bin, "serve", "--db", self.db, "--port", "0", "--threads", "1"],
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            time.sleep(0.05)
            for line in open(os.path.join(self.dir, "serve.log")):
                if "listening on http://127.0.0.1:" in line:
                    port = int(line.split("http://127.0.0.1:")[1].split("/")[0].split()[0])
            if proc.poll() is not None:
                raise Violation("serve exited: " + open(os.path.join(self.dir, "serve.log")).read()[-800:])
        if port is None:
            proc.kill()
            raise Violation("serve did not start")
        lock = threading.Lock()
        stop = threading.Event()
        base = "http://127.0.0.1:%d/collections/%s" % (port, COLLECTION)

        def post(path, body):
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status

        def client(seed):
            r = random.Random(seed)
            while not stop.is_set():
                with lock:
                    if r.random() < 0.7 or len(self.present_ids()) < 10:
                        batch = []
                        for _ in range(r.randint(1, 6)):
                            idle = [i for i in self.allowed if i not in self.inflight]
                            if r.random() < 0.5 or not idle:
                                doc_id = self.next_id
                                self.next_id += 1
                            else:
                                doc_id = r.choice(idle)
                            if any(d == doc_id for d, _ in batch):
                                continue
                            self.version += 1
                            batch.append((doc_id, self.text_for(doc_id, self.version)))
                        for doc_id, text in batch:
                            self.allowed.setdefault(doc_id, {None}).add(text)
                        body = {"documents": [{"id": "d%d" % d, "text": t, "meta": {"n": d}} for d, t in batch]}
                        path, on_ok = "/documents", [(d, {t}) for d, t in batch]
                    else:
                        ids = r.sample(self.present_ids(), r.randint(1, 3))
                        for i in ids:
                            self.allowed[i].add(None)
                        body = {"ids": ["d%d" % i for i in ids]}
                        path, on_ok = "/documents/delete", [(i, {None}) for i in ids]
                    self.inflight.update(d for d, _ in on_ok)
                try:
                    status = post(path, body)
                except (urllib.error.URLError, ConnectionError, OSError):
                    return  # the server was killed: this write is not acknowledged
                with lock:
                    if status == 200:
                        for doc_id, state in on_ok:
                            self.allowed[doc_id] = state
                            self.acked += 1
                    self.inflight.difference_update(d for d, _ in on_ok)

        threads = [threading.Thread(target=client, args=(self.rng.random(),)) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(self.rng.uniform(0.1, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        self.inflight.clear()
        log.close()
        self.counts["serve"] = self.counts.get("serve", 0) + 1
        return True

    def op_reembed(self):
        target = "int8" if self.dtype == "fp32" else "fp32"
        proc = self.start("reembed", COLLECTION, "--dtype", target, "-q")
        killed = self.kill_after("reembed", proc, self.delay("reembed"))
        if not killed:
            self.dtype = target
        return killed

    def op_index(self):
        m = self.rng.choice([8, 12, 16, 24])
        proc = self.start("index", "build", COLLECTION, "--kind", "hnsw", "--M", str(m), "--threads", "1")
        return self.kill_after("index", proc, self.delay("index"))

    def op_compact(self):
        present = self.present_ids()
        if len(present) < 30:
            return self.op_add()
        ids = self.rng.sample(present, len(present) // 3)
        self.run("delete", COLLECTION, *("d%d" % i for i in ids))
        for i in ids:
            self.allowed[i] = {None}
        proc = self.start("search", COLLECTION, "engine pressure", "--mode", "dense", "-k", "3")
        return self.kill_after("compact", proc, self.delay("compact"))

    def op_keywords(self):
        analyzer = self.analyzers[1] if self.analyzer == self.analyzers[0] else self.analyzers[0]
        proc = self.start("index", "rebuild", COLLECTION, "--analyzer", analyzer)
        killed = self.kill_after("keywords", proc, self.delay("keywords"))
        if not killed:
            self.analyzer = analyzer
        return killed

    # ---- checks --------------------------------------------------------------------------------------------

    def check_store(self, label):
        db = sqlite3.connect(self.db)
        try:
            ok = db.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise Violation("%s: integrity_check: %s" % (label, ok))
            fk = db.execute("PRAGMA foreign_key_check").fetchall()
            if fk:
                raise Violation("%s: foreign_key_check: %s" % (label, fk[:5]))
            row = db.execute("SELECT id, dims FROM collections WHERE name = ?", (COLLECTION,)).fetchone()
            if row is None:
                raise Violation("%s: the collection is gone" % label)
            cid, dims = row
            stored = dict(db.execute("SELECT doc_id, text FROM documents WHERE collection_id = ?", (cid,)))
            for doc_id, allowed in self.allowed.items():
                got = stored.get("d%d" % doc_id)
                if got not in allowed:
                    what = "absent" if got is None else "holding an unwritten version" if all(
                        got != a for a in allowed) else "?"
                    raise Violation("%s: document d%d is %s (allowed: %s)" % (
                        label, doc_id, what, ["absent" if a is None else a[-20:] for a in allowed]))
                # Pin what is there: the next check compares against it.
                self.allowed[doc_id] = {got}
            extra = set(stored) - {"d%d" % i for i in self.allowed}
            if extra:
                raise Violation("%s: documents never written: %s" % (label, sorted(extra)[:5]))
            if getattr(self, "pending_delete", None):
                ids, before, killed = self.pending_delete
                gone = [i for i in ids if "d%d" % i not in stored]
                if killed and 0 < len(gone) < len(ids):
                    raise Violation("%s: a killed delete of %d ids removed only %d" % (label, len(ids), len(gone)))
                self.pending_delete = None
            bad = db.execute(
                "SELECT count(*) FROM documents d WHERE d.collection_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)", (cid,)).fetchone()[0]
            if bad:
                raise Violation("%s: %d documents without chunks" % (label, bad))
            sizes = db.execute("SELECT DISTINCT length(vector) FROM chunks WHERE collection_id = ?",
                               (cid,)).fetchall()
            if any(s[0] != dims * 4 for s in sizes):
                raise Violation("%s: vectors of %s bytes, expected %d" % (label, sizes, dims * 4))
            dup = db.execute("SELECT count(*) FROM keyword_docs k JOIN documents d ON d.id = k.document_id "
                             "WHERE d.collection_id = ? GROUP BY k.document_id HAVING count(*) > 1",
                             (cid,)).fetchall()
            if dup:
                raise Violation("%s: documents indexed twice" % label)
            pending = db.execute("SELECT keyword_pending FROM collections WHERE id = ?", (cid,)).fetchone()[0]
            unindexed = db.execute("SELECT count(*) FROM documents d WHERE d.collection_id = ? AND NOT EXISTS "
                                   "(SELECT 1 FROM keyword_docs k WHERE k.document_id = d.id)", (cid,)).fetchone()[0]
            if unindexed and not pending:
                raise Violation("%s: %d documents missing from the keyword index (not marked pending)" % (
                    label, unindexed))
        finally:
            db.close()

    def check_search(self, label):
        present = sorted(self.present_ids())
        if not present:
            return
        for doc_id in self.rng.sample(present, min(3, len(present))):
            text = next(iter(self.allowed[doc_id]))
            hits = json.loads(self.run("search", COLLECTION, "zq%dx" % doc_id, "--mode", "bm25", "-k", "1",
                                       "--json").stdout)["results"]
            if not hits or hits[0]["id"] != "d%d" % doc_id:
                raise Violation("%s: keyword search for zq%dx gave %s" % (label, doc_id, [h["id"] for h in hits]))
            hits = json.loads(self.run("search", COLLECTION, text, "--mode", "dense", "-k", "5",
                                       "--json").stdout)["results"]
            if "d%d" % doc_id not in [h["id"] for h in hits]:
                raise Violation("%s: dense search for the text of d%d gave %s" % (
                    label, doc_id, [h["id"] for h in hits]))
        info = json.loads(self.run("index", "info", COLLECTION, "--json").stdout)
        vector = info["vector"]
        db = sqlite3.connect(self.db)
        chunks = db.execute("SELECT count(*) FROM chunks c JOIN collections k ON k.id = c.collection_id "
                            "WHERE k.name = ?", (COLLECTION,)).fetchone()[0]
        db.close()
        if vector["chunks"] != chunks:
            raise Violation("%s: the vector index counts %d chunks, the store %d" % (label, vector["chunks"], chunks))
        if vector["active"] == "hnsw" and vector["nodes"] - vector["tombstones"] != chunks:
            raise Violation("%s: the graph has %d live nodes for %d chunks" % (
                label, vector["nodes"] - vector["tombstones"], chunks))
        self.check_vectors(label, 4)

    def check_vectors(self, label, sample):
        db = sqlite3.connect(self.db)
        fingerprint = db.execute("SELECT model_fingerprint FROM collections WHERE name = ?",
                                 (COLLECTION,)).fetchone()[0]
        rows = db.execute("SELECT d.doc_id, d.text, c.vector FROM documents d JOIN chunks c ON c.document_id = d.id "
                          "JOIN collections k ON k.id = d.collection_id WHERE k.name = ? ORDER BY d.doc_id",
                          (COLLECTION,)).fetchall()
        db.close()
        if sample and len(rows) > sample:
            rows = self.rng.sample(rows, sample)
        if not rows:
            return
        dtype = "int8" if "int8" in fingerprint else "fp32"
        out = self.run("embed", "--dtype", dtype, "--jsonl", "--format", "jsonl", "-",
                       input_text="".join(json.dumps(r[1]) + "\n" for r in rows)).stdout.splitlines()
        for (doc_id, _, blob), line in zip(rows, out):
            want = json.loads(line)
            want = want["embedding"] if isinstance(want, dict) else want
            got = struct.unpack("<%df" % (len(blob) // 4), blob)
            dot = sum(a * b for a, b in zip(got, want))
            if dot < 0.9999:
                raise Violation("%s: the vector of %s is not its text's at %s (cosine %.5f)" % (
                    label, doc_id, dtype, dot))

    # ---- the run -------------------------------------------------------------------------------------------

    def setup(self):
        if os.path.exists(self.db):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.db + suffix):
                    os.remove(self.db + suffix)
        docs = []
        for _ in range(200):
            self.version += 1
            docs.append((self.next_id, self.text_for(self.next_id, self.version)))
            self.next_id += 1
        self.run("add", COLLECTION, self.write_docs(docs), "--id-field", "id", "--meta-fields", "n", "-q")
        for doc_id, text in docs:
            self.allowed[doc_id] = {text}
        self.run("index", "build", COLLECTION, "--kind", "hnsw", "--threads", "1")

    def self_test(self):
        """The checks must see what they look for: each damage below, done to a
        copy of the store, has to be reported."""
        import shutil
        original = self.db
        damages = [
            ("an acknowledged document lost", "DELETE FROM documents WHERE doc_id = 'd3'"),
            ("a document without chunks", "DELETE FROM chunks WHERE document_id = "
                                          "(SELECT id FROM documents WHERE doc_id = 'd4')"),
            ("a text never written", "UPDATE documents SET text = 'other' WHERE doc_id = 'd5'"),
            ("a vector of the wrong size", "UPDATE chunks SET vector = zeroblob(12) WHERE id = "
                                           "(SELECT min(id) FROM chunks)"),
            ("a document missing from the keyword index", "DELETE FROM keyword_docs WHERE document_id = "
                                                          "(SELECT id FROM documents WHERE doc_id = 'd6')"),
            ("a vector of another text", "UPDATE chunks SET vector = (SELECT vector FROM chunks c JOIN documents d "
                                         "ON d.id = c.document_id WHERE d.doc_id = 'd8') WHERE document_id = "
                                         "(SELECT id FROM documents WHERE doc_id = 'd7')"),
        ]
        for what, sql in damages:
            copy = os.path.join(self.dir, "damaged.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(copy + suffix):
                    os.remove(copy + suffix)
            src = sqlite3.connect(original)
            dst = sqlite3.connect(copy)
            src.backup(dst)
            src.close()
            dst.execute("PRAGMA foreign_keys=OFF")
            dst.execute(sql)
            dst.commit()
            dst.close()
            saved = {k: set(v) for k, v in self.allowed.items()}
            self.db = copy
            try:
                self.check_store("self-test")
                if what == "a vector of another text":
                    self.check_vectors("self-test", 0)
                raise SystemExit("kill harness self-test: %s was not detected" % what)
            except Violation:
                pass
            finally:
                self.db = original
                self.allowed = saved
        print("self-test: the checks detect %d kinds of damage" % len(damages), flush=True)

    def main(self):
        self.setup()
        self.self_test()
        ops = [("add", self.op_add, 4), ("delete", self.op_delete, 2), ("serve", self.op_serve, 2),
               ("reembed", self.op_reembed, 1), ("index", self.op_index, 1), ("compact", self.op_compact, 1),
               ("keywords", self.op_keywords, 1)]
        weighted = [(name, fn) for name, fn, w in ops for _ in range(w)]
        kills = 0
        started = time.monotonic()
        while kills < self.kills:
            name, fn = self.rng.choice(weighted)
            killed = fn()
            kills += killed
            label = "kill %d (%s)" % (kills, name) if killed else "%s (finished)" % name
            self.check_store(label)
            if killed and kills % self.check_every == 0:
                self.check_search(label)
            print("%s: ok, %d documents" % (label, len(self.present_ids())), flush=True)
        # Every operation to its end, then the whole store against the model.
        self.final = True
        for name, fn in (("add", self.op_add), ("reembed", self.op_reembed), ("keywords", self.op_keywords),
                         ("index", self.op_index)):
            fn()
            self.check_store("final " + name)
        self.check_search("final")
        self.check_vectors("final", 0)
        print("survived %d kills in %.0f s (%s); %d writes acknowledged, %d documents at the end, "
              "every one as acknowledged" % (
                  kills, time.monotonic() - started,
                  ", ".join("%s %d" % (k, v) for k, v in sorted(self.counts.items())), self.acked,
                  len(self.present_ids())))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--check-every", type=int, default=5)
    args = p.parse_args()
    try:
        Harness(args).main()
    except Violation as v:
        print("VIOLATION: %s" % v, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
