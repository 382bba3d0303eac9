"""Smoke test of the production shape: gunicorn + a Celery worker + beat on PostgreSQL and Redis.

Starts the three processes against a scratch database and a Redis of its own, logs in over HTTP as a real browser
would, checks pages and static files, checks that the worker answers on the broker, then
shuts everything down. Exit code 0 when all is well.
"""

import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
PORT = int(os.environ.get("SMOKE_PORT", "8765"))
DB = os.environ.get("SMOKE_DB", "coachcrm_smoke")
# A Redis of the smoke test's own (broker and cache): the outage hook stops it for a few seconds.
REDIS_PORT = int(os.environ.get("SMOKE_REDIS_PORT", "6390"))
ENV = {
    **os.environ,
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/5",
    "CACHE_URL": f"redis://127.0.0.1:{REDIS_PORT}/6",
    # Plain HTTP on loopback: no redirect to HTTPS, cookies sent without TLS.
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    # The demo admin signs in with his password here; the second factor has tests of its own.
    "MFA_REQUIRED_ROLES": "",
}


def step(message):
    print(f"smoke: {message}", flush=True)


def run(*args):
    subprocess.run(args, cwd=ROOT, env=ENV, check=True)


class Browser:
    """Just enough of a browser: cookies, CSRF, redirects not followed."""

    def __init__(self):
        self.cookies = {}

    def request(self, method, path, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"Host": "127.0.0.1", "Referer": f"http://127.0.0.1:{PORT}/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        content = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, dict(response.getheaders()), content


def redis_ping() -> bool:
    ping = subprocess.run([shutil.which("redis-cli"), "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True)
    return ping.stdout.strip() == "PONG"


def redis_start():
    subprocess.run(
        [shutil.which("redis-server"), "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "yes"],
        check=True, capture_output=True,
    )  # fmt: skip
    for _ in range(100):
        if redis_ping():
            return
        time.sleep(0.1)
    raise SystemExit(f"smoke: the smoke Redis on port {REDIS_PORT} did not start")


def redis_stop():
    subprocess.run([shutil.which("redis-cli"), "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
    for _ in range(100):
        if not redis_ping():
            return
        time.sleep(0.1)
    raise SystemExit(f"smoke: the smoke Redis on port {REDIS_PORT} did not stop")


def wait_for_http(timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, _ = Browser().request("GET", "/login/")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("smoke: gunicorn did not answer in time")


def main():
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    if redis_ping():
        raise SystemExit(f"smoke: port {REDIS_PORT} is taken; set SMOKE_REDIS_PORT to a free one")
    redis_start()
    step("migrate, demo data, collectstatic")
    run(str(VENV / "python"), "manage.py", "migrate", "--no-input", "-v0")
    run(str(VENV / "python"), "manage.py", "seed_demo", "--force")
    run(str(VENV / "python"), "manage.py", "collectstatic", "--no-input", "-v0")

    processes = []
    workdir = tempfile.mkdtemp(prefix="coachcrm-smoke-")
    try:
        step("start gunicorn, worker and beat")
        processes.append(subprocess.Popen(
            [str(VENV / "gunicorn"), "coachcrm.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2"],
            cwd=ROOT, env=ENV,
        ))  # fmt: skip
        processes.append(subprocess.Popen(
            [str(VENV / "celery"), "-A", "coachcrm", "worker", "--loglevel=warning", "--concurrency=1",
             "--hostname", "smoke@%h"],
            cwd=ROOT, env=ENV,
        ))  # fmt: skip
        processes.append(subprocess.Popen(
            [str(VENV / "celery"), "-A", "coachcrm", "beat", "--loglevel=warning",
             "--schedule", os.path.join(workdir, "beat-schedule")],
            cwd=ROOT, env=ENV,
        ))  # fmt: skip
        wait_for_http()

        browser = Browser()
        status, _, page = browser.request("GET", "/login/")
        assert status == 200 and "csrftoken" in browser.cookies, status
        status, _, _ = browser.request(
            "POST", "/login/", {"username": "manager", "password": "coachcrm-demo", "next": "/"}
        )
        assert status == 302, f"login answered {status}"
        status, _, page = browser.request("GET", "/accounts/")
        assert status == 200 and "Accounts" in page, status
        step("logged in over HTTP and saw the account list")
        css = re.search(r'href="(/static/bootstrap/css/bootstrap\.min\.[0-9a-f]+\.css)"', page)
        assert css, "the page does not link the hashed Bootstrap CSS"
        status, _, _ = browser.request("GET", css.group(1))
        assert status == 200, f"static CSS answered {status}"
        step("static files served by WhiteNoise")

        deadline = time.monotonic() + 60
        while True:
            ping = subprocess.run(
                [str(VENV / "celery"), "-A", "coachcrm", "inspect", "ping", "--timeout", "5"],
                cwd=ROOT, env=ENV, capture_output=True, text=True,
            )  # fmt: skip
            if ping.returncode == 0 and "pong" in ping.stdout:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"smoke: the Celery worker did not answer: {ping.stdout}{ping.stderr}")
            time.sleep(1)
        step("the Celery worker answers on Redis")
        # Later features add their own end-to-end checks as .ci/smoke.d/*.py (given the port).
        for hook in sorted((ROOT / ".ci" / "smoke.d").glob("*.py")):
            step(f"run {hook.name}")
            subprocess.run([str(VENV / "python"), str(hook), str(PORT)], cwd=ROOT, env=ENV, check=True)
        for process in processes:
            assert process.poll() is None, f"{process.args[0]} exited early"
        step("all good")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_stop()


if __name__ == "__main__":
    sys.exit(main())
