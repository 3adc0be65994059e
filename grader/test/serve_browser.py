#!/usr/bin/env python3
"""grader serve in a real browser: headless Chromium driven over its DevTools
pipe (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4, no
WebSocket library needed). On a scratch copy of the workbook, never on the
real exercises/: open the map; open task 01 and wait for its first verdict;
save the reference over the stub and see the page go "building" and then
pass, pushed by Server-Sent Events (no reload); ask for a hint; take a
screenshot. Also knocks on the door without the token, with a foreign Host
and with path traversal. Exits 77 (ctest: skipped) without Chromium.

  grader/test/serve_browser.py [--grader build/dev/grader/grader]
      [--scratch build/dev/serve-browser] [--screenshot SCRATCH/serve-task-page.png]

`bin/grader selftest` runs it with the defaults; so does ctest
(grader-serve-browser). Refresh docs/serve-task-page.png from the screenshot.
"""
import argparse, base64, http.client, json, os, re, shutil, signal, subprocess, sys, threading, time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def say(*a):
    print("serve-browser:", *a, flush=True)


def fail(msg, log=None):
    say("FAILED:", msg)
    if log and os.path.exists(log):
        sys.stdout.write("".join("  | " + l for l in open(log, errors="replace").readlines()[-40:]))
    sys.exit(1)


def sync_copy(dest):
    """The workbook's files into dest, rewriting only those that differ, so
    that the scratch build stays incremental and a file put back is rebuilt."""
    files = subprocess.run(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True).stdout.split(b"\0")
    for f in filter(None, files):
        rel = f.decode()
        s, d = os.path.join(SRC, rel), os.path.join(dest, rel)
        if not os.path.isfile(s):
            continue
        data = open(s, "rb").read()
        if os.path.exists(d) and open(d, "rb").read() == data:
            continue
        os.makedirs(os.path.dirname(d), exist_ok=True)
        with open(d, "wb") as out:
            out.write(data)
        shutil.copymode(s, d)
    shutil.rmtree(os.path.join(dest, ".grader"), ignore_errors=True)


class Browser:
    """Chromium over the DevTools pipe: one page, evaluate, navigate, screenshot."""

    def __init__(self, chromium, profile, log):
        to_chrome, self.w = os.pipe()
        self.r, from_chrome = os.pipe()

        def fds():
            a, b = os.dup(to_chrome), os.dup(from_chrome)   # dup'd: inheritable, then moved to 3 and 4
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.setpgid(0, 0)
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--remote-debugging-pipe",
             "--window-size=1280,900", "--user-data-dir=" + profile, "about:blank"],
            close_fds=False, preexec_fn=fds, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        os.close(to_chrome)
        os.close(from_chrome)
        self.buf, self.n = b"", 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, page=True)

    def call(self, method, params=None, page=False):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if page:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.n:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium went away")
            self.buf += chunk

    def eval(self, expression):
        try:
            r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, page=True)
            return r["result"].get("value")
        except RuntimeError:
            return None   # between two pages

    def wait_for(self, expression, seconds, what):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(what)

    def navigate(self, url):
        self.call("Page.navigate", {"url": url}, page=True)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, page=True)["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))

    def close(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def knock(port, path, host=None, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    if cookie:
        headers["Cookie"] = cookie
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read().decode(errors="replace")
    return r.status, body


def security_checks(port, token):
    cookie = f"grader_token_{port}={token}"
    checks = [("no token", knock(port, "/")[0], 403),
              ("wrong token", knock(port, "/", cookie=f"grader_token_{port}=0{token[1:]}")[0], 403),
              ("a rebound Host", knock(port, "/", host=f"attacker.example:{port}", cookie=cookie)[0], 421),
              ("..", knock(port, "/source/boost/../../../etc/passwd", cookie=cookie)[0], 404),
              ("%2e%2e", knock(port, "/source/%2e%2e/%2e%2e/etc/passwd", cookie=cookie)[0], 404),
              ("an unknown task", knock(port, "/task/task-99", cookie=cookie)[0], 404)]
    for what, got, want in checks:
        if got != want:
            fail(f"{what}: answered {got}, expected {want}")
    status, _ = knock(port, "/source/boost/asio/write.hpp", cookie=cookie)
    if status != 200:
        fail(f"a Boost header: answered {status}")
    say("security: no token 403, wrong token 403, foreign Host 421, traversal 404, unknown task 404")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grader", default=os.path.join(SRC, "build/dev/grader/grader"))
    ap.add_argument("--scratch", default=os.path.join(SRC, "build/dev/serve-browser"))
    ap.add_argument("--screenshot")
    args = ap.parse_args()
    args.screenshot = args.screenshot or os.path.join(args.scratch, "serve-task-page.png")
    if not os.access(args.grader, os.X_OK):
        fail(f"no grader at {args.grader}: build it first (bin/grader builds it), or pass --grader")

    chromium = shutil.which("chromium")
    if not chromium:
        say("SKIPPED: chromium is not installed: apt install chromium")
        return 77

    wb = os.path.join(args.scratch, "wb")
    os.makedirs(wb, exist_ok=True)
    sync_copy(wb)
    say("scratch workbook:", wb)

    refused = subprocess.run([args.grader, "serve", "--address", "0.0.0.0"], capture_output=True, text=True,
                             env=dict(os.environ, WORKBOOK_ROOT=wb))
    if refused.returncode != 2 or "127.0.0.1 only" not in refused.stderr:
        fail(f"serve --address 0.0.0.0 was not refused: {refused.returncode} {refused.stderr}")

    env = dict(os.environ, WORKBOOK_ROOT=wb)
    server_log = os.path.join(args.scratch, "serve.log")
    log = open(server_log, "w")
    server = subprocess.Popen([args.grader, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = None
    for line in server.stdout:
        log.write(line)
        log.flush()
        m = re.search(r"(http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]+))", line)
        if m:
            url, port, token = m.group(1), int(m.group(2)), m.group(3)
            break
    if not url:
        fail("grader serve printed no URL", server_log)
    say("serving on port", port)
    # The rest of its output goes on to the log.
    pump = threading.Thread(target=lambda: [log.write(l) or log.flush() for l in server.stdout], daemon=True)
    pump.start()

    browser = None
    try:
        security_checks(port, token)
        browser = Browser(chromium, os.path.join(args.scratch, "profile"), os.path.join(args.scratch, "chromium.log"))

        browser.navigate(url)
        n = browser.wait_for("document.querySelectorAll('#map tr.task').length", 30, "the map")
        if browser.eval("location.search") != "":
            fail("the token stayed in the address bar")
        tally = browser.eval("document.querySelector('#tally h2').textContent")
        say(f"map: {n} tasks, the tally: {tally!r}")

        base = f"http://127.0.0.1:{port}"
        browser.navigate(base + "/task/task-01")
        first = browser.wait_for("['passed','failed'].includes(document.querySelector('#verdict')?.dataset.state) && "
                                 "document.querySelector('#verdict').dataset.state", 900, "task 01's first verdict")
        summary = browser.eval("document.querySelector('#verdict .summary')?.textContent")
        say(f"task 01 first verdict: {first}: {summary!r}")
        if first != "failed":
            fail("the untouched stub passed")
        if not browser.eval("document.querySelectorAll('#verdict table.exchange').length"):
            say("note: no exchange table among task 01's failures")
        if not browser.eval("document.querySelectorAll('.readme a[href^=\"/source/boost/\"]').length"):
            fail("the Source trail has no links to the Boost headers")

        # The save, as an editor does it: a new file renamed over the stub.
        browser.eval("window.notReloaded = true")
        stub = os.path.join(wb, "exercises/task-01/hello_server.cpp")
        shutil.copyfile(os.path.join(wb, "solutions/task-01/hello_server.cpp"), stub + ".new")
        saved = time.monotonic()
        os.rename(stub + ".new", stub)
        browser.wait_for("document.querySelector('#verdict')?.dataset.state === 'building'", 30, "'building…' after the save")
        building = time.monotonic() - saved
        browser.wait_for("document.querySelector('#verdict')?.dataset.state === 'passed'", 600, "the passing verdict")
        passed = time.monotonic() - saved
        if not browser.eval("window.notReloaded === true"):
            fail("the page was reloaded: the verdict should arrive by Server-Sent Events")
        say(f"save to 'building…' {building:.2f} s, save to the new verdict on the page {passed:.1f} s (by SSE, no reload)")

        browser.eval("document.getElementById('hint-form').submit()")
        browser.wait_for("document.querySelectorAll('ol.hints li').length === 1", 30, "the first hint")
        progress = json.load(open(os.path.join(wb, ".grader/progress.json")))
        if progress["tasks"]["task-01"].get("hints_shown") != [0]:
            fail(f"progress.json does not record the hint: {progress['tasks']['task-01']}")
        say("hint 1 shown and recorded in .grader/progress.json")

        browser.navigate(base + "/task/task-01")   # from the top, not at #hints
        browser.wait_for("document.querySelectorAll('ol.hints li').length === 1", 30, "the task page again")
        browser.wait_for("document.readyState === 'complete' && document.fonts.status === 'loaded'", 30, "the page drawn")
        browser.screenshot(args.screenshot)
        say("screenshot:", args.screenshot)
    except TimeoutError as e:
        fail(f"timed out waiting for {e}", server_log)
    finally:
        if browser:
            browser.close()
        server.send_signal(signal.SIGINT)
        try:
            rc = server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            fail("grader serve did not stop on SIGINT", server_log)
    if rc != 0:
        fail(f"grader serve exited {rc} on SIGINT", server_log)
    say("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
