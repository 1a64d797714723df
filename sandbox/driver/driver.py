"""suture sandbox driver: runs inside the verification container (network none; the code it runs is non-root).

It executes a plan of steps against /workspace and prints one result line prefixed with @@SUTURE_RESULT@@.
  serve: start the service, wait for its health path, replay requests, check it is still healthy, stop it.
  run:   run a shell command (tests), with a wall-clock limit and capped output.
Child processes get their own process group so a step's timeout kills everything they spawned. Output is
capped (the excess is drained and counted, never kept) so a flood cannot exhaust memory.
Standard library only: the image's python3 is all it needs.
"""
import base64
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

MARK = "@@SUTURE_RESULT@@"
# The bench runs the same driver on the host (bare) against a temp dir, for the overhead ratio.
WORKSPACE = os.environ.get("SUTURE_WORKSPACE", "/workspace")


class Capture:
    """Keeps the first `cap` bytes of a stream and counts the rest."""

    def __init__(self, cap):
        self.cap = cap
        self.buf = bytearray()
        self.total = 0

    def feed(self, chunk):
        self.total += len(chunk)
        room = self.cap - len(self.buf)
        if room > 0:
            self.buf += chunk[:room]

    def text(self):
        out = self.buf.decode("utf-8", "replace")
        if self.total > len(self.buf):
            out += f"\n[... {self.total - len(self.buf)} more bytes not kept]"
        return out


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


# In the container the driver is root with only CAP_SETUID/SETGID/KILL, and everything it runs is the
# sandbox user: code under test can then neither signal the driver nor write to its stdout through
# /proc/<pid>/fd (which a same-uid process could, forging the result line).
RUN_AS = int(os.environ.get("SUTURE_RUN_AS_UID", "10001")) if os.environ.get("SUTURE_SANDBOX") == "1" else None


def spawn(command, env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    drop = {"user": RUN_AS, "group": RUN_AS, "extra_groups": []} if RUN_AS is not None and os.geteuid() == 0 else {}
    return subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=WORKSPACE,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **drop,
    )


def pump(proc, capture, deadline, flood_limit):
    """Reads proc's output until it exits or the deadline passes. Returns a reason it was stopped, or None."""
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                return None
            capture.feed(chunk)
            if capture.total > flood_limit:
                return "output-limit"
        elif proc.poll() is not None:
            # exited, and a quiet pipe means only a leftover grandchild holds it: killed by the caller
            return None


def run_step(step, cap):
    started = time.monotonic()
    proc = spawn(step["command"], step.get("env", {}))
    capture = Capture(cap)
    stopped = None
    try:
        stopped = pump(proc, capture, started + step["timeoutSec"], cap * 8)
    except subprocess.TimeoutExpired:
        stopped = "timeout"
    finally:
        kill_group(proc)
    return {
        "kind": "run",
        "name": step["name"],
        "exitCode": proc.returncode if stopped is None else None,
        "stopped": stopped,
        "durationMs": int((time.monotonic() - started) * 1000),
        "output": capture.text(),
        "outputBytes": capture.total,
    }


def http_call(port, method, path, headers, body, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read(256 * 1024)
        return {"status": resp.status, "body": data.decode("utf-8", "replace"),
                "contentType": resp.getheader("Content-Type") or ""}
    except Exception as exc:  # connection refused, reset, timeout: the service is down or hung
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        conn.close()


def serve_step(step, cap):
    started = time.monotonic()
    port = step["port"]
    proc = spawn(step["start"], {"PORT": str(port), **step.get("env", {})})
    capture = Capture(cap)
    def read_output():
        # A service that floods its output is stopped like a flooding test, not left blocked on a full pipe.
        if pump(proc, capture, started + step["timeoutSec"], cap * 8) == "output-limit":
            kill_group(proc)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    result = {"kind": "serve", "name": step["name"], "healthy": False, "responses": [], "aliveAfter": False,
              "healthyAfter": False, "exitCode": None}
    try:
        deadline = started + step.get("startupTimeoutSec", 15)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            r = http_call(port, "GET", step["health"], {}, None, 1)
            if r.get("status") is not None and r["status"] < 500:
                result["healthy"] = True
                break
            time.sleep(0.05)
        result["startupMs"] = int((time.monotonic() - started) * 1000)
        if result["healthy"]:
            for req in step["requests"]:
                if time.monotonic() > started + step["timeoutSec"]:
                    result["responses"].append({"status": None, "error": "step time limit reached"})
                    continue
                result["responses"].append(
                    http_call(port, req["method"], req["path"], req.get("headers"), req.get("body"),
                              step.get("requestTimeoutSec", 10)))
            result["aliveAfter"] = proc.poll() is None
            after = http_call(port, "GET", step["health"], {}, None, 2) if result["aliveAfter"] else {}
            result["healthyAfter"] = after.get("status") is not None and after["status"] < 500
    finally:
        result["exitCode"] = proc.poll()
        kill_group(proc)
        reader.join(timeout=2)
    result["durationMs"] = int((time.monotonic() - started) * 1000)
    result["output"] = capture.text()
    return result


def main():
    plan = json.loads(base64.b64decode(sys.argv[1]))
    cap = int(plan.get("outputBytes", 1 << 20))
    for rel in plan.get("remove", []):
        path = os.path.realpath(os.path.join(WORKSPACE, rel))
        if path.startswith(WORKSPACE + "/") and os.path.isfile(path):
            os.remove(path)

    def run(step):
        return serve_step(step, cap) if step["kind"] == "serve" else run_step(step, cap)

    if plan.get("parallel"):
        # Independent steps (a replay on its own port, test runs) overlap: most of their time is waiting.
        results = [None] * len(plan["steps"])

        def worker(i, step):
            results[i] = run(step)

        threads = [threading.Thread(target=worker, args=(i, st)) for i, st in enumerate(plan["steps"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        results = [run(step) for step in plan["steps"]]
    sys.stdout.write(MARK + json.dumps({"steps": results}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
