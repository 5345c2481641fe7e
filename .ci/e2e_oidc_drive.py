#!/usr/bin/env python3
"""Drives headless Chromium through signing in at the identity provider's own pages: /holder →
the provider's login and consent forms → /holder signed in → a presentation → its /p/ scan page
→ sign out here and at the provider → the old session cookie no longer opens anything. Same
approach as .ci/e2e_drive.py (the DevTools protocol on a pipe, standard library only); the
provider is tests/oidc/provider.mjs, started by .ci/e2e-oidc.sh.

usage: e2e_oidc_drive.py <base url> <provider url> <licence urn> <out dir>
"""
import base64, json, os, subprocess, sys, tempfile, time, urllib.error, urllib.request

BASE, PROVIDER, LICENCE, OUT = sys.argv[1:5]
ACCOUNT, RESIDENT = "citizen", "11010519491231002X"


class Browser:
    def __init__(self):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # The child sees our pipe ends as its fds 3 (commands in) and 4 (answers out). Move them
        # out of the way first, in case either already is fd 3 or 4.
        def fds():
            high_r, high_w = os.dup(to_chrome_r) + 100, os.dup(from_chrome_w) + 100
            os.dup2(to_chrome_r, high_r)
            os.dup2(from_chrome_w, high_w)
            for high, low in ((high_r, 3), (high_w, 4)):
                os.dup2(high, low)
                os.set_inheritable(low, True)
        self.profile = tempfile.mkdtemp(prefix="elicence-e2e-oidc-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             # The provider's development pages import a web font: no name resolves but
             # loopback, so nothing leaves the machine and nothing waits on a network.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
             "--window-size=412,915", "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf, self.next_id, self.session = b"", 0, None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Network.enable")

    def call(self, method, params=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.from_chrome, 1 << 16)
                if not chunk:
                    raise SystemExit("chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise SystemExit(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def js(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait(self, condition, what, seconds=15):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.js(f"document.readyState === 'complete' && ({condition})"):
                return
            time.sleep(0.2)
        raise SystemExit(f"timed out waiting for {what}; page: {self.js('location.href')}\n"
                         f"{self.js('document.body && document.body.innerText')}")

    def go(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait(f"location.href === {json.dumps(url)}", url)

    def shot(self, name):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(base64.b64decode(data))
        print(f"  screenshot {OUT}/{name}")

    def cookie(self, name):
        cookies = self.call("Network.getCookies", {"urls": [f"{BASE}/holder"]})["cookies"]
        return next((c for c in cookies if c["name"] == name), None)

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        self.proc.wait(timeout=10)


def at_provider():
    return f"location.href.startsWith({json.dumps(PROVIDER + '/')})"


def sign_in(b):
    print("open /holder, sign in at the identity provider's own login page")
    b.go(f"{BASE}/holder")
    b.shot("1-holder-sign-in.png")
    b.js("document.getElementById('oidc-login').click()")
    b.wait(f"{at_provider()} && document.querySelector('input[name=login]') !== null",
           "the provider's login form")
    b.shot("2-provider-login.png")
    b.js(f"document.querySelector('input[name=login]').value = {json.dumps(ACCOUNT)};"
         "document.querySelector('input[name=password]').value = 'any password';"
         "document.querySelector('input[name=login]').form.submit()")
    b.wait(f"{at_provider()} && document.querySelector('input[name=prompt][value=consent]') !== null",
           "the provider's consent form")
    b.shot("3-provider-consent.png")
    b.js("document.querySelector('input[name=prompt][value=consent]').form.submit()")
    b.wait(f"location.href === {json.dumps(BASE + '/holder')} && "
           f"document.body.innerText.includes({json.dumps(LICENCE)})", "the holder's licences")
    assert RESIDENT in b.js("document.body.innerText"), "the page names the signed-in citizen"
    b.shot("4-holder-signed-in.png")


def present_and_scan(b):
    print("create a presentation of the licence and scan it")
    form = f"[...document.forms].find(f => f.licence && f.licence.value === {json.dumps(LICENCE)})"
    b.js(f"(() => {{ const form = {form}; form.querySelector('input[value=lawFirm]').checked = true;"
         " form.querySelector('button').click(); })()")
    b.wait("document.getElementById('presentation-url') !== null", "the presentation page")
    url = b.js("document.getElementById('presentation-url').href")
    assert url.startswith(f"{BASE}/p/"), url
    b.shot("5-presentation-qr.png")
    b.go(url)
    verdict = b.js("document.querySelector('[data-verdict]').dataset.verdict")
    text = b.js("document.querySelector('.verdict').innerText")
    b.shot("6-scan-valid.png")
    assert verdict == "valid", f"expected valid, got {verdict}: {text}"
    print(f"  verdict: {text.splitlines()[0]}")


def sign_out(b):
    print("sign out here and at the provider (RP-initiated logout)")
    b.go(f"{BASE}/holder")
    csrf = b.js("document.querySelector('form[action=\"/holder/logout\"] input[name=csrf]').value")
    b.js("document.querySelector('form[action=\"/holder/logout\"] button').click()")
    b.wait(f"{at_provider()} && document.querySelector('button[name=logout]') !== null",
           "the provider's sign-out page")
    b.shot("7-provider-sign-out.png")
    b.js("document.querySelector('button[name=logout]').click()")
    b.wait(f"location.href === {json.dumps(BASE + '/holder')} && "
           "document.getElementById('oidc-login') !== null", "the sign-in page again")
    b.shot("8-signed-out.png")
    return csrf


def request(path, cookie, data=None):
    req = urllib.request.Request(f"{BASE}{path}", data=data, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(req) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def old_cookie_is_dead(b, old, csrf):
    print("the old session cookie opens nothing")
    cookie = f"{old['name']}={old['value']}"
    status, page = request("/holder", cookie)
    assert status == 200 and 'id="oidc-login"' in page and RESIDENT not in page, status
    form = f"csrf={csrf}".encode()
    status, _ = request("/holder/presentations", cookie, form + f"&licence={LICENCE}".encode())
    assert status == 403, f"a form with the old cookie: {status}"
    status, _ = request("/holder/tokens", cookie, form)
    assert status == 403, f"an app token with the old cookie: {status}"
    # And in the browser itself, with the cookie put back as it was.
    b.call("Network.setCookie", {k: old[k] for k in ("name", "value", "domain", "path", "httpOnly")})
    b.go(f"{BASE}/holder")
    assert b.js("document.getElementById('oidc-login') !== null"), "the sign-in page"
    assert RESIDENT not in b.js("document.body.innerText")
    b.shot("9-old-cookie-signed-out.png")


def main():
    os.makedirs(OUT, exist_ok=True)
    b = Browser()
    try:
        sign_in(b)
        old = b.cookie("elicence_holder")
        assert old and old["httpOnly"] and old["sameSite"] == "Lax", old
        present_and_scan(b)
        csrf = sign_out(b)
        assert b.cookie("elicence_holder") is None, "the browser dropped the session cookie"
        old_cookie_is_dead(b, old, csrf)
    finally:
        b.close()
    print("e2e-oidc: all checks passed")


if __name__ == "__main__":
    main()
