"""suture sandbox driver: pid 1 of every sandbox container (verification: network none; the code it runs is non-root).

It reads a plan from a JSON file (argv[1]: copied into the container before it started, readable by root
alone, like the tree's tar), sets up the workspace (prepared dependencies, then the tree under test, unpacked
as the sandbox user from a file descriptor the driver opened), executes the steps and prints one result line
prefixed with @@SUTURE_RESULT@@.
  serve: start the service, wait for its health path, replay requests (with the headers that carry meaning),
         check it is still alive and healthy, stop it; stopped at its time limit like a run step.
  run:   run a shell command (tests), with a wall-clock limit and capped output; `files` are written first.
  stash: (prepare only) drop the tree's own files and keep what install produced, outside the workspace.
Child processes get their own process group so a step's timeout kills everything they spawned. Output is
capped (the excess is drained and counted, never kept) so a flood cannot exhaust memory. Everything done
in the workspace is done as the sandbox user: after code under test ran, the workspace may hold links
planted anywhere, and only that uid's own rights then apply.
Standard library only: the image's python3 is all it needs.
"""
import base64
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tarfile
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


def drop_privileges():
    return {"user": RUN_AS, "group": RUN_AS, "extra_groups": []} if RUN_AS is not None and os.geteuid() == 0 else {}


def spawn(command, env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    drop = drop_privileges()
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


BODY_CAP = 256 * 1024
# The headers the differential compares (src/sandbox/differential.ts); the rest is transport.
KEPT_HEADERS = ("content-type", "location", "set-cookie")


def http_call(port, method, path, headers, body, timeout):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=max(0.1, timeout))
    try:
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read(BODY_CAP + 1)
        kept = {}
        for name, value in resp.getheaders():
            if name.lower() in KEPT_HEADERS:
                kept.setdefault(name.lower(), []).append(value)
        out = {"status": resp.status, "body": data[:BODY_CAP].decode("utf-8", "replace"),
               "contentType": resp.getheader("Content-Type") or "", "headers": kept}
        if len(data) > BODY_CAP:
            out["truncated"] = True
    except Exception as exc:  # connection refused, reset, timeout: the service is down or hung
        out = {"status": None, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        conn.close()
    out["durationMs"] = int((time.monotonic() - started) * 1000)
    return out


def healthy_answer(r):
    return r.get("status") is not None and r["status"] < 500


def serve_step(step, cap):
    started = time.monotonic()
    deadline = started + step["timeoutSec"]
    port = step["port"]
    proc = spawn(step["start"], {"PORT": str(port), **step.get("env", {})})
    capture = Capture(cap)
    flooded = []

    def read_output():
        # A service that floods its output is stopped like a flooding test, not left blocked on a full pipe.
        if pump(proc, capture, deadline, cap * 8) == "output-limit":
            flooded.append(True)
            kill_group(proc)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    result = {"kind": "serve", "name": step["name"], "healthy": False, "responses": [], "aliveAfter": False,
              "healthyAfter": False, "exitCode": None, "stopped": None}
    not_before = step.get("notBefore") or []
    try:
        startup_deadline = min(deadline, started + step.get("startupTimeoutSec", 15))
        while time.monotonic() < startup_deadline:
            if proc.poll() is not None:
                break
            r = http_call(port, "GET", step["health"], {}, None, min(1, startup_deadline - time.monotonic()))
            if healthy_answer(r):
                result["healthy"] = True
                result["healthStatus"] = r["status"]
                break
            time.sleep(0.05)
        result["startupMs"] = int((time.monotonic() - started) * 1000)
        if not result["healthy"] and proc.poll() is None:
            result["stopped"] = "timeout"
        if result["healthy"]:
            for i, req in enumerate(step["requests"]):
                if i < len(not_before):
                    # The second base instance sends each request no earlier than the host asked: a second
                    # after the first instance got it (containers share the kernel's monotonic clock).
                    time.sleep(max(0, min(not_before[i], deadline) - time.monotonic()))
                left = deadline - time.monotonic()
                if left <= 0:
                    result["stopped"] = "timeout"
                    result["responses"].append({"status": None, "error": "step time limit reached"})
                    continue
                sent_at = time.monotonic()
                answer = http_call(port, req["method"], req["path"], req.get("headers"), req.get("body"),
                                   min(step.get("requestTimeoutSec", 10), left))
                answer["sentAt"] = sent_at
                result["responses"].append(answer)
            if time.monotonic() >= deadline:
                result["stopped"] = "timeout"
            # A crash that comes just after the answer (a background task, an exit hook) counts too.
            settle = step.get("settleMs", 0) / 1000
            if settle:
                time.sleep(max(0, min(settle, deadline - time.monotonic())))
            result["aliveAfter"] = proc.poll() is None
            after = http_call(port, "GET", step["health"], {}, None, 2) if result["aliveAfter"] else {}
            result["healthAfterStatus"] = after.get("status")
            result["healthyAfter"] = healthy_answer(after)
    finally:
        result["exitCode"] = proc.poll()
        kill_group(proc)
        reader.join(timeout=2)
    if flooded:
        result["stopped"] = "output-limit"
    result["durationMs"] = int((time.monotonic() - started) * 1000)
    result["output"] = capture.text()
    return result


def as_sandbox(action, payload, timeout=600):
    """Runs one of this file's helper actions as the sandbox user; returns (ok, output)."""
    try:
        r = subprocess.run([sys.executable, "-I", "-S", os.path.abspath(__file__), "--helper", action],
                           input=json.dumps(payload),
                           cwd=WORKSPACE, capture_output=True, text=True, timeout=timeout, **drop_privileges())
    except subprocess.TimeoutExpired:
        return False, f"{action} timed out"
    return r.returncode == 0, (r.stdout + r.stderr).strip()[-2000:]


def setup_workspace(deps, tree):
    """Prepared dependencies first, then the tree over them (the tree wins where both have a path), both
    written as the sandbox user; the tree's tar is root's alone, so it comes in on stdin. Returns why it
    failed, or None. Small programs, not a helper interpreter: this runs in every container."""
    def as_sandbox_run(argv, stdin=subprocess.DEVNULL):
        # cwd "/": the child changes directory before it changes uid, and the tree may have narrowed the workspace
        r = subprocess.run(argv, stdin=stdin, cwd="/", capture_output=True, text=True, **drop_privileges())
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    if deps and os.path.isdir(deps):
        ok, out = as_sandbox_run(["cp", "-a", deps + "/.", WORKSPACE + "/"])
        if not ok:
            return f"cannot copy the prepared dependencies: {out[-500:]}"
    if tree is not None:
        ok, out = as_sandbox_run(["tar", "-x", "-f", "-", "-C", WORKSPACE], stdin=tree)
        if not ok:
            return f"cannot unpack the tree: {out[-500:]}"
    as_sandbox_run(["chmod", "755", WORKSPACE])  # the tree's own root entry may have narrowed it
    return None


def helper_write(p):
    for f in p["files"]:
        path = os.path.join(WORKSPACE, f["path"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.islink(path):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64decode(f["data"]))


def helper_stash(p):
    """Removes every file that came from the tree, then moves the rest (install's output) to p["dir"]."""
    members = p["entries"]  # [name, is_dir] of the tree's tar, listed by the driver
    for name, is_dir in members:
        path = os.path.normpath(os.path.join(WORKSPACE, name))
        if is_dir or not path.startswith(WORKSPACE + "/"):
            continue
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            os.unlink(path)
    for name, _ in sorted((m for m in members if m[1]), key=lambda m: -m[0].count("/")):
        path = os.path.normpath(os.path.join(WORKSPACE, name))
        if path.startswith(WORKSPACE + "/"):
            try:
                os.rmdir(path)
            except OSError:
                pass  # not empty: install put something there
    for cache in (".home/.cache", ".home/.npm"):  # caches are not dependencies; keep the image small
        shutil.rmtree(os.path.join(WORKSPACE, cache), ignore_errors=True)
    for name in os.listdir(WORKSPACE):
        shutil.move(os.path.join(WORKSPACE, name), os.path.join(p["dir"], name))


HELPERS = {"write": helper_write, "stash": helper_stash}


def workspace_full():
    """True when the workspace has (next to) no room left: the step hit limits.workspace."""
    try:
        st = os.statvfs(WORKSPACE)
    except OSError:
        return False
    size, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
    return size > 0 and free < min(1 << 20, size // 100)


# Set once a step was stopped at a limit: with the plan's stopAfterLimit, the remaining steps are skipped.
LIMIT_HIT = []


def skipped(step):
    if step["kind"] == "serve":
        return {"kind": "serve", "name": step["name"], "healthy": False, "responses": [], "aliveAfter": False,
                "healthyAfter": False, "exitCode": None, "stopped": "skipped", "durationMs": 0, "output": ""}
    return {"kind": "run", "name": step["name"], "exitCode": None, "stopped": "skipped", "durationMs": 0,
            "output": "", "outputBytes": 0}


# Results of the steps run so far, by name, for `scaleFrom`.
DONE = {}


def scaled(step):
    """A step running a candidate's code in the base container gets max(floor, factor x an earlier step's
    duration) (src/sandbox/step-limits.ts), never more than its own limit."""
    ref = step.get("scaleFrom")
    earlier = DONE.get(ref["step"]) if ref else None
    if not earlier or earlier.get("stopped") == "skipped":
        return step
    limit = max(ref["floorSec"], ref["factor"] * earlier["durationMs"] / 1000)
    return {**step, "timeoutSec": min(step["timeoutSec"], limit)}


def run_any(step, cap):
    if step["kind"] != "stash" and PLAN.get("stopAfterLimit") and LIMIT_HIT:
        return skipped(step)
    result = run_step_kind(scaled(step), cap)
    DONE[step["name"]] = result
    if result.get("stopped") in ("timeout", "output-limit"):
        LIMIT_HIT.append(step["name"])
    return result


def run_step_kind(step, cap):
    if step["kind"] == "serve":
        return serve_step(step, cap)
    if step["kind"] == "stash":
        ok, out = as_sandbox("stash", {"entries": TREE_ENTRIES, "dir": step["dir"]})
        return {"kind": "stash", "name": step["name"], "ok": ok, "output": out}
    if step.get("files"):
        ok, out = as_sandbox("write", {"files": step["files"]})
        if not ok:
            return {"kind": "run", "name": step["name"], "exitCode": None, "stopped": None, "durationMs": 0,
                    "output": f"cannot write the step's files: {out}", "outputBytes": 0}
    result = run_step(step, cap)
    if workspace_full():
        result["workspaceFull"] = True
    return result


def failed(result):
    return (result["kind"] == "run" and result["exitCode"] != 0) or (result["kind"] == "stash" and not result["ok"])


def report(doc):
    sys.stdout.write(MARK + json.dumps(doc) + "\n")
    sys.stdout.flush()


PLAN = {}
TREE_ENTRIES = []


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--helper":
        HELPERS[sys.argv[2]](json.load(sys.stdin))
        return
    # The plan and the tree are readable by root alone: read here, before anything runs as the sandbox user.
    with open(sys.argv[1]) as f:
        PLAN.update(json.load(f))
    tree = open(PLAN["tree"], "rb") if PLAN.get("tree") else None
    cap = int(PLAN.get("outputBytes", 1 << 20))
    for step in PLAN["steps"]:
        if step["kind"] == "stash":
            # The only thing done as root: the stash directory, outside the sandbox user's reach otherwise.
            os.makedirs(step["dir"], exist_ok=True)
            os.chmod(step["dir"], 0o777)
            if tree and not TREE_ENTRIES:
                with tarfile.open(fileobj=tree) as tar:
                    TREE_ENTRIES.extend([m.name, m.isdir()] for m in tar.getmembers())
                tree.seek(0)
    if PLAN.get("deps") or tree:
        error = setup_workspace(PLAN.get("deps"), tree)
        if tree:
            tree.close()
        if error:
            report({"steps": [], "setupError": error.splitlines()[-1], "workspaceFull": workspace_full()})
            return
    results = []
    for step in PLAN["steps"]:
        results.append(run_any(step, cap))
        if PLAN.get("stopOnFailure") and failed(results[-1]):
            break
    report({"steps": results})


if __name__ == "__main__":
    main()
