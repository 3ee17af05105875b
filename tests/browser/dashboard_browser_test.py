#!/usr/bin/env python3
"""The /dashboard page in headless Chromium, the way a person sees it.

Starts the real `hasivu serve` on 127.0.0.1 (a free port, a temporary SQLite database seeded with
the demo data), drives traffic to several of the ten functions, waits until the server's rolling
windows have ticked once (every 10 s) so its last-minute numbers exist, and starts Debian's
chromium headless with a DevTools port. Through the DevTools protocol it opens /dashboard at
phone width (390 px), signs in through the form as the demo admin (a real POST /auth/login), waits
for the polls, and checks that every uPlot chart of the four panels holds samples from the live
server, that the latency, error and hit-rate charts are titled "last 1 min" and draw the server's
`windows["1m"]` values (not the since-start ones), that the alarm table has rows, and that no
console error, failed request or uncaught exception happened. Then a non-admin signs in and must see the server's 403 message, and the admin signs in
again at desktop width (1280 px). Screenshots are written to the artefact folder and their paths
printed.

  dashboard_browser_test.py --binary build/ci/app/hasivu --artefacts build/ci/artefacts

Exit status 0 when every check passed, 1 otherwise. Chromium and the server are stopped by PID on
every path out.
"""
import argparse
import base64
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

try:
    import websocket  # Debian's python3-websocket
except ImportError:
    print("dashboard_browser_test: python3-websocket is missing (scripts/install-deps.sh)",
          file=sys.stderr)
    sys.exit(1)

PANELS = ("runtime", "database", "cache", "api")
MONITORING_TOKEN = "browser-test-monitoring-token-5c1e9a7f3b2d4086"
POLL_S = 2.0


class Failure(Exception):
    pass


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    """In the child before exec: SIGKILL when this test process dies, so even a test killed by
    CTest's timeout leaves no server or browser behind (PR_SET_PDEATHSIG = 1)."""
    _libc.prctl(1, signal.SIGKILL)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, name):
    """Stops one process we started, by its PID: SIGTERM, then SIGKILL after 10 s. Returns its
    exit status (None when it was never started)."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        log(f"stopped {name} (pid {proc.pid}): exit status {proc.returncode}")
    return proc.returncode


# ---- the server

class Server:
    def __init__(self, binary, workdir):
        self.port = free_port()
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir)
        self.log_path = os.path.join(workdir, "server.log")
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.binary = binary

    def start(self):
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                 self.data_dir, "--log-level", "warn", "--monitoring-token", MONITORING_TOKEN],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent)
        log(f"server pid {self.proc.pid} on {self.base}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"the server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise Failure("the server did not answer /healthz within 20 s")
        with open(os.path.join(self.data_dir, "fixtures.json")) as f:
            self.fixtures = json.load(f)

    def request(self, method, path, token=None, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def login(self, account):
        status, body = self.request("POST", "/api/v1/auth/login",
                                    body={"email": account["email"],
                                          "password": account["password"]})
        if status != 200:
            raise Failure(f"login of {account['email']} answered {status}: {body}")
        return body["data"]["tokens"]["accessToken"]


def drive_traffic(server, stop_event):
    """Requests to several of the ten functions until stop_event: logins, users-get, orders-list,
    menus-daily, rfid-verify-card (an unknown card: 404), so every panel has numbers."""
    school = server.fixtures["schools"][0]
    parent = school["parents"][0]
    kitchen = school["kitchenStaff"][0]
    parent_token = server.login(parent)
    kitchen_token = server.login(kitchen)
    school_id = school["id"]
    rounds = 0
    while not stop_event.is_set() and rounds < 2000:
        rounds += 1
        server.request("GET", "/api/v1/users/me", parent_token)
        server.request("GET", "/api/v1/orders?limit=5", parent_token)
        server.request("GET", f"/api/v1/menus/daily?schoolId={school_id}", parent_token)
        server.request("POST", "/api/v1/rfid/verify", kitchen_token,
                       {"cardNumber": "RFID-NOPE-0000"})
        if rounds % 20 == 0:
            server.login(parent)
        stop_event.wait(0.05)


# ---- chromium and the DevTools protocol

class Chromium:
    def __init__(self, workdir):
        self.profile = os.path.join(workdir, "chromium-profile")
        os.makedirs(self.profile)
        self.proc = None
        self.port = None

    def start(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise Failure("chromium is not installed (scripts/install-deps.sh installs Debian's)")
        args = [exe, "--headless=new", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-dev-shm-usage", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
                "--disable-client-side-phishing-detection", "--disable-breakpad",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--hide-scrollbars", "--window-size=1280,900", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # chromium refuses root without it
        with open(os.path.join(self.profile, "..", "chromium.log"), "wb") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        log(f"chromium pid {self.proc.pid}")
        # With port 0 chromium picks a free port and writes it to DevToolsActivePort.
        active = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"chromium exited ({self.proc.returncode})")
            if os.path.exists(active):
                with open(active) as f:
                    first = f.readline().strip()
                if first.isdigit():
                    self.port = int(first)
                    break
            time.sleep(0.05)
        else:
            raise Failure("chromium did not open its DevTools port within 20 s")
        log(f"chromium DevTools on 127.0.0.1:{self.port}")

    def new_page(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank",
                                     method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            target = json.load(r)
        return Page(target["webSocketDebuggerUrl"], target["id"], self.port)


class Page:
    """One tab, driven over its DevTools WebSocket. Console errors, uncaught exceptions and
    failed loads are collected as they arrive."""

    def __init__(self, ws_url, target_id, port):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.target_id = target_id
        self.port = port
        self.next_id = 0
        self.events = []
        self.problems = []
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(method)

    def close(self):
        try:
            self.ws.close()
        finally:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/json/close/{self.target_id}", timeout=5).read()
            except OSError:
                pass

    def _note(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text")
            self.problems.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert",
                                                                            "warning"):
            args = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args", []))
            self.problems.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error",
                                                                                   "warning"):
            e = params["entry"]
            self.problems.append(f"{e.get('source')} {e.get('level')}: {e.get('text')} "
                                 f"{e.get('url', '')}".strip())
        self.events.append(msg)

    def send(self, method, params=None, timeout=30):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise Failure(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._note(msg)
        raise Failure(f"{method}: no answer within {timeout} s")

    def pump(self, seconds):
        """Reads events for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.ws.settimeout(left)
            try:
                self._note(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return

    def evaluate(self, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise Failure(f"evaluate {expression!r}: {r['exceptionDetails']}")
        return r.get("result", {}).get("value")

    def viewport(self, width, height, scale, mobile):
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale,
                   "mobile": mobile})

    def open(self, url):
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", 15)

    def wait_event(self, method, timeout):
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for msg in self.events[seen:]:
                if msg.get("method") == method:
                    return msg
            seen = len(self.events)
            self.pump(0.1)
        raise Failure(f"no {method} within {timeout} s")

    def wait_for(self, expression, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            self.pump(0.2)
        raise Failure(f"timed out after {timeout} s waiting for {what} ({expression})")

    def click(self, selector):
        """A real mouse click in the middle of the element, as a person would."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
        if not box:
            raise Failure(f"no element {selector} to click")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                   "button": "left", "clickCount": 1})

    def type_into(self, selector, text):
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).value = ''")
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path, full_page):
        params = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                              "scale": 1}
        else:
            self.evaluate("window.scrollTo(0, 0)")
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print(f"screenshot: {path}", flush=True)


# ---- the checks

def sign_in(page, account):
    page.type_into("#email", account["email"])
    page.type_into("#password", account["password"])
    page.click("#login-button")


def status(page):
    return page.evaluate("window.hasivuDashboard.status()")


def check_panels(s, server_json):
    """Every chart of every panel holds at least three samples, and the numbers they hold are
    the live server's."""
    errors = []
    for panel in PANELS:
        charts = s["panels"].get(panel) or []
        if not charts:
            errors.append(f"panel {panel}: no charts")
        for c in charts:
            if c["points"] < 3:
                errors.append(f"{panel}/{c['name']}: {c['points']} samples")
            if not any(n >= 2 for n in c["series"].values()):
                errors.append(f"{panel}/{c['name']}: no series with values: {c['series']}")
    flat = {f"{p}/{c['name']}": c["series"] for p in PANELS for c in s["panels"].get(p, [])}
    want = {
        "runtime/runtime-latency": ["p95"],
        "runtime/runtime-load": ["requests/s", "RSS MiB"],
        "database/database-latency": ["p50", "p95"],
        "database/database-pool": ["pool size"],
        "cache/cache-hit-rate": ["memory"],
        "cache/cache-counts": ["memory evictions"],
        "api/api-p95": ["auth-login", "users-get", "orders-list", "rfid-verify-card"],
        "api/api-errors": ["auth-login"],
    }
    for chart, labels in want.items():
        for label in labels:
            if flat.get(chart, {}).get(label, 0) < 2:
                errors.append(f"{chart}: series {label!r} has no live values: {flat.get(chart)}")
    routed = [e["function"] for e in server_json["endpoints"] if e["routed"]]
    if s["apiRows"] != len(routed):
        errors.append(f"API table: {s['apiRows']} rows, the server routes {len(routed)}")
    if s["alarmRows"] < len(server_json["alarms"]) or s["alarmRows"] == 0:
        errors.append(f"alarm table: {s['alarmRows']} rows, the server has "
                      f"{len(server_json['alarms'])} alarms")
    return errors


# The charts that plot the server's last-minute windows: chart -> (series label, the value in the
# dashboard JSON that series draws).
def _api_window(function, field, scale=1.0):
    def pick(d):
        for e in d["endpoints"]:
            if e["function"] == function:
                v = e["windows"]["1m"][field]
                return None if v is None else v * scale
        return None
    return pick


def _tier_hit_rate(tier):
    def pick(d):
        for t in d["cache"]["tiers"]:
            if t["tier"] == tier:
                v = t["windows"]["1m"]["hitRate"]
                return None if v is None else v * 100
        return None
    return pick


WINDOW_CHARTS = {
    "runtime/runtime-latency": [("p95", lambda d: d["runtime"]["windows"]["1m"]["p95Ms"])],
    "database/database-latency": [("p95", lambda d: d["database"]["windows"]["1m"]["p95Ms"])],
    "cache/cache-hit-rate": [("memory", _tier_hit_rate("memory"))],
    "api/api-p95": [("orders-list", _api_window("orders-list", "p95Ms")),
                    ("users-get", _api_window("users-get", "p95Ms"))],
    "api/api-errors": [("rfid-verify-card", _api_window("rfid-verify-card", "errorRate", 100))],
}


def check_windows(s, server_json):
    """The window charts say "last 1 min" and their latest values are the server's 1m windows.
    The windows move only when the server ticks (every 10 s), so a page poll and the test's own
    read between two ticks see the same numbers; the caller retries across a tick."""
    errors = []
    flat = {f"{p}/{c['name']}": c for p in PANELS for c in s["panels"].get(p, [])}
    for chart, series in WINDOW_CHARTS.items():
        c = flat.get(chart)
        if c is None:
            errors.append(f"{chart}: missing")
            continue
        if "last 1 min" not in (c.get("title") or ""):
            errors.append(f"{chart}: titled {c.get('title')!r}, not 'last 1 min'")
        for label, pick in series:
            want = pick(server_json)
            got = c["last"].get(label)
            if want is None or got is None:
                errors.append(f"{chart}/{label}: drawn {got}, server's 1m window {want}")
            elif abs(got - want) > 1e-6 * max(1.0, abs(want)):
                errors.append(f"{chart}/{label}: drawn {got}, server's 1m window {want}")
    return errors


def wait_for_windows(server, timeout):
    """Until the server's last-minute window holds requests (its first tick, 10 s after start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = server.request("GET", "/api/v1/monitoring/dashboard", MONITORING_TOKEN)
        if status == 200 and body["data"]["runtime"]["windows"]["1m"]["count"] > 0:
            return
        time.sleep(0.5)
    raise Failure(f"the server's 1-minute window held no requests within {timeout} s")


STATUS_JS = ("(() => { const s = window.hasivuDashboard.status();"
             " s.apiRows = document.querySelector('#api-table tbody').rows.length;"
             " return s; })()")


def admin_session(chromium, server, width, height, scale, mobile, shots):
    page = chromium.new_page()
    try:
        page.viewport(width, height, scale, mobile)
        page.open(server.base + "/dashboard")
        page.wait_for("!!window.hasivuDashboard && !document.querySelector('#sign-in').hidden",
                      10, "the sign-in form")
        if page.evaluate("window.hasivuDashboard.status().signedIn"):
            raise Failure("the page shows panels before any sign-in")
        sign_in(page, server.fixtures["admin"])
        page.wait_for("window.hasivuDashboard.status().okPolls >= 4", 20,
                      "four good polls after the admin's sign-in")
        page.pump(0.3)  # let the last draw settle
        admin_token = server.login(server.fixtures["admin"])
        for attempt in range(4):
            s = page.evaluate(STATUS_JS)
            _, body = server.request("GET", "/api/v1/monitoring/dashboard", admin_token)
            window_errors = check_windows(s, body["data"])
            if not window_errors:
                break
            page.pump(POLL_S + 0.5)  # a tick came between the page's poll and ours: once more
        errors = check_panels(s, body["data"]) + window_errors
        if not s["signedIn"] or s["message"]:
            errors.append(f"after sign-in: signedIn={s['signedIn']} message={s['message']!r}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            errors.append(f"the page is {overflow} px wider than the {width} px screen")
        widths = page.evaluate(
            "[...document.querySelectorAll('.chart')].map(c => "
            "[c.clientWidth, c.querySelector('canvas') ? "
            "c.querySelector('canvas').getBoundingClientRect().width : 0])")
        for container, canvas in widths:
            if canvas == 0 or canvas > container + 1:
                errors.append(f"a chart {canvas} px wide in a {container} px container")
        stored = page.evaluate("Object.keys(sessionStorage)")
        if "hasivu.dashboard.token" not in stored:
            errors.append(f"the token is not in sessionStorage: {stored}")
        if page.evaluate("Object.keys(localStorage).length") != 0:
            errors.append("the page wrote localStorage")
        for name, full in shots:
            page.screenshot(name, full)
        errors += page.problems
        log(f"{width}px: {s['okPolls']} polls, {s['samples']} samples, "
            f"{s['alarmRows']} alarm rows; problems: {len(page.problems)}")
        return errors, page
    except Exception:
        page.close()
        raise


def forbidden_session(page, server, shot):
    """Signs out, then a parent signs in: the page must show the server's 403 message and no
    panel. The one failed load allowed here is that 403."""
    errors = []
    page.click("#sign-out")
    page.wait_for("!document.querySelector('#sign-in').hidden", 5, "the sign-in form again")
    page.problems.clear()
    parent = server.fixtures["schools"][0]["parents"][0]
    sign_in(page, parent)
    page.wait_for("window.hasivuDashboard.status().lastStatus === 403", 15, "the 403")
    s = page.evaluate(STATUS_JS)
    _, denied = server.request("GET", "/api/v1/monitoring/dashboard", server.login(parent))
    server_message = denied["error"]["message"]
    if s["signedIn"] or not page.evaluate("document.querySelector('#panels').hidden"):
        errors.append("a non-admin sees the panels")
    if server_message not in s["message"] or "FORBIDDEN" not in s["message"]:
        errors.append(f"the 403 message is not shown: {s['message']!r} "
                      f"(server: {server_message!r})")
    visible = page.evaluate("(() => { const m = document.querySelector('#message');"
                            " const r = m.getBoundingClientRect();"
                            " return !m.hidden && r.width > 0 && r.height > 0"
                            " && r.top >= 0 && r.bottom <= window.innerHeight; })()")
    if not visible:
        errors.append("the 403 message is not on screen")
    if page.evaluate("sessionStorage.getItem('hasivu.dashboard.token')"):
        errors.append("the refused token is still kept")
    left = page.evaluate("(() => ({service: document.querySelector('#service').textContent,"
                         " rows: document.querySelectorAll('#panels tbody tr').length,"
                         " canvases: document.querySelectorAll('#panels canvas').length,"
                         " samples: window.hasivuDashboard.status().samples}))()")
    if left["service"] or left["rows"] or left["canvases"] or left["samples"]:
        errors.append(f"the admin's numbers are still on the page after sign-out: {left}")
    page.screenshot(shot, False)
    for p in page.problems:
        if not ("403" in p and "/api/v1/monitoring/dashboard" in p):
            errors.append(p)
    log(f"non-admin: message {s['message']!r}")
    return errors


def _interrupted(*_):
    raise KeyboardInterrupt()


def token_session(page):
    """Signs out, then pastes the monitoring token: the panels come back without any login."""
    page.click("#sign-out")
    page.wait_for("!document.querySelector('#sign-in').hidden", 5, "the sign-in form again")
    before = page.evaluate("window.hasivuDashboard.status().okPolls")
    page.type_into("#token", MONITORING_TOKEN)
    page.click("#token-button")
    page.wait_for(f"window.hasivuDashboard.status().okPolls >= {before + 2}", 15,
                  "two good polls with the monitoring token")
    s = page.evaluate(STATUS_JS)
    errors = []
    if not s["signedIn"] or s["samples"] < 2:
        errors.append(f"the monitoring token did not bring the panels back: {s}")
    errors += page.problems
    log(f"monitoring token: {s['okPolls'] - before} polls")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--artefacts", required=True)
    args = ap.parse_args()
    os.makedirs(args.artefacts, exist_ok=True)
    art = lambda name: os.path.join(os.path.abspath(args.artefacts), name)
    for stale in ("server.log", "chromium.log"):  # kept only from a failed run
        if os.path.exists(art(stale)):
            os.remove(art(stale))

    workdir = tempfile.mkdtemp(prefix="hasivu-browser-")
    server = Server(os.path.abspath(args.binary), workdir)
    chromium = Chromium(workdir)
    stop_traffic = threading.Event()
    traffic = None
    errors = []
    start = time.monotonic()
    previous_term = signal.signal(signal.SIGTERM, _interrupted)
    try:
        server.start()
        chromium.start()
        traffic = threading.Thread(target=drive_traffic, args=(server, stop_traffic),
                                   daemon=True)
        traffic.start()
        wait_for_windows(server, 30)

        phone_errors, page = admin_session(
            chromium, server, 390, 844, 2, True,
            [(art("dashboard-phone.png"), False), (art("dashboard-phone-full.png"), True)])
        errors += [f"phone: {e}" for e in phone_errors]
        try:
            errors += [f"phone, non-admin: {e}"
                       for e in forbidden_session(page, server, art("dashboard-forbidden.png"))]
        finally:
            page.close()

        desktop_errors, page = admin_session(chromium, server, 1280, 900, 1, False,
                                             [(art("dashboard-desktop.png"), True)])
        errors += [f"desktop: {e}" for e in desktop_errors]
        try:
            errors += [f"desktop, monitoring token: {e}" for e in token_session(page)]
        finally:
            page.close()
    except Failure as e:
        errors.append(str(e))
    except KeyboardInterrupt:
        errors.append("interrupted")
    finally:
        stop_traffic.set()
        if traffic is not None:
            traffic.join(timeout=10)
        stop(chromium.proc, "chromium")
        # A clean shutdown on SIGTERM, and under the sanitizers no report at exit.
        status = stop(server.proc, "server")
        if status not in (None, 0):
            errors.append(f"the server exited with status {status} on SIGTERM")
        signal.signal(signal.SIGTERM, previous_term)
        if errors:
            for name in ("server.log", "chromium.log"):
                path = os.path.join(workdir, name)
                if os.path.exists(path):
                    shutil.copy(path, art(name))
                    print(f"log: {art(name)}")
        shutil.rmtree(workdir, ignore_errors=True)

    log(f"took {time.monotonic() - start:.1f} s")
    if errors:
        for e in errors:
            print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print("dashboard in headless chromium: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
