#!/usr/bin/env python3
"""The reference evaluator's full results, for tests/eval/ir_eval_test.cc.

Usage: ir_eval_reference.py PEERS_IR_DIR QRELS RUN [QRELS RUN ...]

Loads PEERS_IR_DIR/ir_eval.py (the shared reference, ../shared/peers/ir), reads
each QRELS and RUN pair with its own readers and prints a JSON list with, for
each pair, one object
    {"default": R, "skip_missing": R, "use_rank": R, "skip_missing+use_rank": R}
with R = {"metrics": {...}, "info": {...}, "per_query": {query: {...}}}.
(One process for many pairs keeps the test fast.)
`ir_eval.py --per-query` prints per-query values with 4 decimals only; this
prints every float with repr precision, so the test can compare to 1e-9.
A pair that ir_eval.py cannot read gives {"error": "<exception type>: <message>"}.
"""
import json
import sys


def evaluate_pair(ir_eval, qrels_path, run_path):
    try:
        qrels = ir_eval.load_qrels(qrels_path)
        run = ir_eval.load_run(run_path)
    except Exception as e:  # noqa: BLE001  (any reader failure is a result here)
        return {"error": "%s: %s" % (type(e).__name__, e)}
    out = {}
    for name, skip, use_rank in (("default", False, False), ("skip_missing", True, False),
                                 ("use_rank", False, True), ("skip_missing+use_rank", True, True)):
        means, per_q, info = ir_eval.evaluate(qrels, run, skip_missing=skip, use_rank=use_rank)
        out[name] = {"metrics": means, "info": info, "per_query": per_q}
    return out


def main(argv):
    if len(argv) < 4 or len(argv) % 2 != 0:
        sys.stderr.write(__doc__)
        return 2
    sys.path.insert(0, argv[1])
    import ir_eval  # noqa: E402  (the path is only known at run time)

    pairs = zip(argv[2::2], argv[3::2])
    print(json.dumps([evaluate_pair(ir_eval, q, r) for q, r in pairs]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
