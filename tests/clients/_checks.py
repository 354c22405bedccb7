"""The check harness shared by the Python client suites (boto3_suite.py, boto3_sse_suite.py).

`@check(name)` wraps one step: the first failure prints its traceback to stderr and one JSON
object on stdout ({"ok": false, "failed": name, "checks": [...], "error": "..."}) and exits 1;
`report()` prints {"ok": true, "checks": [...]} once every step passed.
"""

import json
import sys
import time
import traceback

checks = []


def check(name):
    def wrap(fn):
        def run():
            started = time.monotonic()
            try:
                fn()
            except Exception as e:  # report the first failure as JSON and stop
                print(traceback.format_exc(), file=sys.stderr)
                print(json.dumps({"ok": False, "failed": name, "checks": checks,
                                  "error": f"{type(e).__name__}: {e}"}))
                sys.exit(1)
            checks.append(name)
            # Seconds per check, for whoever reads the log; never asserted.
            print(f"{time.monotonic() - started:7.1f}s  {name}", file=sys.stderr)
        return run
    return wrap


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def report():
    print(json.dumps({"ok": True, "checks": checks}))
