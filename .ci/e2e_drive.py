#!/usr/bin/env python3
"""Drives headless Chromium through the holder's and the scanner's pages over the DevTools
protocol on a pipe (--remote-debugging-pipe: NUL-delimited JSON on fds 3 and 4), with the Python
standard library only. The pages themselves need no JavaScript; the driver uses the protocol's
Runtime.evaluate to type into forms and press buttons as a person would.

usage: e2e_drive.py <base url> <holder token> <valid licence urn> <revoked licence urn> <out dir>
"""
import base64, json, os, subprocess, sys, tempfile, time

BASE, TOKEN, VALID, REVOKED, OUT = sys.argv[1:6]


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
        self.profile = tempfile.mkdtemp(prefix="elicence-e2e-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
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

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        self.proc.wait(timeout=10)


def present(b, licence, fields):
    """On /holder: tick `fields` in the licence's form, press 生成二维码, answer the /p/ URL."""
    b.go(f"{BASE}/holder")
    form = f"[...document.forms].find(f => f.licence && f.licence.value === {json.dumps(licence)})"
    ticks = "; ".join(f"form.querySelector('input[value={f}]').checked = true" for f in fields)
    b.js(f"(() => {{ const form = {form}; {ticks}; form.querySelector('button').click(); }})()")
    b.wait("document.getElementById('presentation-url') !== null", "the presentation page")
    return b.js("document.getElementById('presentation-url').href")


def main():
    os.makedirs(OUT, exist_ok=True)
    b = Browser()
    try:
        print("open /holder, enter the holder token")
        b.go(f"{BASE}/holder")
        b.shot("1-holder-sign-in.png")
        b.js(f"document.getElementById('token').value = {json.dumps(TOKEN)};"
             "document.querySelector('form[action=\"/holder/login\"] button').click()")
        b.wait(f"document.body.innerText.includes({json.dumps(VALID)})", "the holder's licences")
        b.shot("2-holder-licences.png")

        print("create a presentation of the valid licence and open it")
        url = present(b, VALID, ["lawFirm"])
        b.shot("3-presentation-qr.png")
        assert b.js("document.querySelector('img.qr').naturalWidth") >= 300, "QR image loads"
        b.go(url)
        verdict = b.js("document.querySelector('[data-verdict]').dataset.verdict")
        text = b.js("document.querySelector('.verdict').innerText")
        b.shot("4-scan-valid.png")
        # Headless Chromium asks for en-US, so the page leads with English.
        assert verdict == "valid" and "VALID" in text, f"expected valid, got {verdict}: {text}"
        print(f"  verdict: {text.splitlines()[0]}")

        print("the same for the revoked licence")
        url = present(b, REVOKED, [])
        b.go(url + "?lang=zh")
        verdict = b.js("document.querySelector('[data-verdict]').dataset.verdict")
        text = b.js("document.querySelector('.verdict').innerText")
        b.shot("5-scan-revoked.png")
        assert verdict == "invalid" and "无效" in text and "注销" in text, f"got {verdict}: {text}"
        print(f"  verdict: {' / '.join(text.splitlines())}")

        print("a used single-use code shows nothing of the licence")
        b.go(url + "?lang=zh")
        assert "二维码已使用" in b.js("document.body.innerText")
        b.shot("6-scan-used.png")
    finally:
        b.close()
    print("e2e: all checks passed")


if __name__ == "__main__":
    main()
