#!/usr/bin/env python3
"""Poll a URL until a stop file appears and record every answer, so a test can prove that the API
kept answering during an upgrade.  Usage: probe.py URL CA_FILE STOP_FILE RESULT_FILE"""

import json
import ssl
import sys
import time
import urllib.request


def main() -> None:
    url, ca, stop, result = sys.argv[1:5]
    ctx = ssl.create_default_context(cafile=ca)
    ok, failures = 0, []
    started = time.time()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10, context=ctx) as resp:
                resp.read()
                ok += 1
        except Exception as exc:  # noqa: BLE001 - any failed request is what the probe counts
            failures.append({"t": round(time.time() - started, 2), "error": repr(exc)})
            print(f"probe: {failures[-1]}", flush=True)
        try:
            with open(stop):
                break
        except FileNotFoundError:
            time.sleep(0.25)
    with open(result, "w") as fh:
        json.dump(
            {
                "ok": ok,
                "failed": len(failures),
                "failures": failures[:20],
                "seconds": round(time.time() - started, 1),
            },
            fh,
        )


if __name__ == "__main__":
    main()
