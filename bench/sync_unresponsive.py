"""Benchmark: how long `finops-tui sync aws` takes to give up on an endpoint that accepts connections and
never answers, with the shipped [aws] defaults (connect 5 s, read 15 s, 30 s per data set, adaptive retries).
The target (issue 21) is under a minute per data set; before the deadline it was about six minutes
(6 attempts x 60 s read timeout).

    python bench/sync_unresponsive.py [--only forecast]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="forecast", help="data sets to sync (each is timed as one)")
    args = parser.parse_args()
    exe = shutil.which("finops-tui") or str(Path(sys.executable).with_name("finops-tui"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_MAX_ATTEMPTS", None)
    with tempfile.TemporaryDirectory() as home:
        started = time.monotonic()
        out = subprocess.run([exe, "--home", home, "sync", "aws", "--endpoint-url", url, "--only", args.only],
                             capture_output=True, text=True, env=env, timeout=900)
        elapsed = time.monotonic() - started
    sock.close()
    sets = len(args.only.split(","))
    print(out.stdout.strip())
    print(f"exit {out.returncode}; {elapsed:.1f} s for {sets} data set(s): {elapsed / sets:.1f} s each "
          f"(target < {TARGET_S:.0f} s)")
    return 0 if elapsed / sets < TARGET_S and out.returncode == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
