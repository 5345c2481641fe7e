#!/usr/bin/env python3
"""Drives headless Chromium, as a phone (412 x 915 CSS pixels), through the public pages, the
holder's page and the scanner's pages over the DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-delimited JSON on fds 3 and 4), with the Python standard library
only. The pages themselves need no JavaScript; the driver uses the protocol's Runtime.evaluate to
type into forms and press buttons as a person would, and to check each page as a citizen would
see it: no page wider than the phone, no raw ISO date or time, no status shown as its code, no
identifier wrapped over lines. Every page is screenshotted into <out dir>.

usage: e2e_drive.py <base url> <holder token> <valid urn> <revoked urn> <expired urn> <out dir>
"""
import base64, json, os, subprocess, sys, tempfile, time, urllib.request

BASE, TOKEN, VALID, REVOKED, EXPIRED, OUT = sys.argv[1:7]
PHONE = {"width": 412, "height": 915, "deviceScaleFactor": 2, "mobile": True}

# What a citizen should never see on a page (run in the page; answers a list of problems).
CHECKS = r"""(() => {
  const problems = [], text = document.body.innerText, en = document.documentElement.lang === 'en';
  const width = document.documentElement.scrollWidth;
  if (width > PHONE_WIDTH || width > window.innerWidth) problems.push(`wider than the phone: ${width} > ${PHONE_WIDTH} px`);
  const iso = text.match(/\b\d{4}-\d{2}-\d{2}(T[0-9:.]+Z?)?\b/);
  if (iso) problems.push(`raw ISO date or time: ${iso[0]}`);
  const code = text.match(/\b[a-z]+(_[a-z]+)+\b/);
  if (code) problems.push(`a code shown as it is: ${code[0]}`);
  for (const el of document.querySelectorAll('[data-status], td[data-state], span[data-state], [data-result]')) {
    const raw = el.dataset.status || el.dataset.state || el.dataset.result, shown = el.innerText;
    if (new RegExp(`\\b${raw}\\b`).test(shown) || (!en && !/[\u4e00-\u9fff]/.test(shown)))
      problems.push(`status ${raw} shown untranslated: "${shown}"`);
  }
  for (const el of document.querySelectorAll('.code')) {
    const style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || 1.3 * parseFloat(style.fontSize);
    if (el.getClientRects().length > 1 || el.getBoundingClientRect().height > 1.8 * line)
      problems.push(`identifier wraps: ${el.innerText}`);
  }
  return problems;
})()"""


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
             "--window-size=412,915", "--lang=en-US", "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf, self.next_id, self.session = b"", 0, None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", PHONE)

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
        """Checks the page as a citizen would see it, then screenshots the whole of it."""
        problems = self.js(CHECKS.replace("PHONE_WIDTH", str(PHONE["width"])))
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(base64.b64decode(data))
        print(f"  screenshot {OUT}/{name}")
        if problems:
            raise SystemExit(f"{name} ({self.js('location.href')}):\n  " + "\n  ".join(problems))

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        self.proc.wait(timeout=10)


def present(b, licence, fields, use="single"):
    """On /holder: tick `fields` in the licence's form, choose single or multi use, press
    生成二维码, answer the /p/ URL."""
    b.go(f"{BASE}/holder")
    form = f"[...document.forms].find(f => f.licence && f.licence.value === {json.dumps(licence)})"
    ticks = "; ".join(f"form.querySelector('input[value={f}]').checked = true" for f in fields)
    b.js(f"(() => {{ const form = {form}; {ticks}; form.use.value = {json.dumps(use)};"
         " form.querySelector('button').click(); })()")
    b.wait("document.getElementById('presentation-url') !== null", "the presentation page")
    return b.js("document.getElementById('presentation-url').href")


def present_by_api(licence, seconds, single_use=False):
    """A presentation made as a phone app makes it (POST /v1/presentations), `seconds` long."""
    body = json.dumps({"licence": licence, "lifetimeSeconds": seconds, "singleUse": single_use}).encode()
    request = urllib.request.Request(f"{BASE}/v1/presentations", data=body, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["url"]


def verdict(b):
    return (b.js("document.querySelector('[data-verdict]').dataset.verdict"),
            b.js("document.querySelector('.verdict').innerText"))


def main():
    os.makedirs(OUT, exist_ok=True)
    soon_expired = present_by_api(VALID, 30)
    made = time.time()
    b = Browser()
    try:
        print("the public pages")
        b.go(f"{BASE}/")
        b.shot("01-home.png")
        b.go(f"{BASE}/catalogue")
        assert "律师执业证" in b.js("document.body.innerText")
        b.shot("02-catalogue.png")
        b.go(f"{BASE}/catalogue/11100000000014062K001")
        text = b.js("document.body.innerText")
        assert "执业证号" in text and "Certificate number" in text and "已发布" in text, text
        b.shot("03-type.png")

        print("open /holder, enter the holder token")
        b.go(f"{BASE}/holder")
        b.shot("04-holder-sign-in.png")
        b.js(f"document.getElementById('token').value = {json.dumps(TOKEN)};"
             "document.querySelector('form[action=\"/holder/login\"] button').click()")
        b.wait(f"document.body.innerText.includes({json.dumps(VALID)})", "the holder's licences")
        b.shot("05-holder.png")

        print("a presentation of the valid licence (any number of scans), in Chinese and English")
        url = present(b, VALID, ["lawFirm", "issuedOn"], use="multi")
        b.shot("06-presentation-qr.png")
        assert b.js("document.querySelector('img.qr').naturalWidth") >= 300, "QR image loads"
        b.go(url)
        state, text = verdict(b)
        # The phone asks for English (Accept-Language en-US): the page still leads in Chinese.
        assert state == "valid" and "有效" in text.splitlines()[0], text
        assert b.js("document.documentElement.lang") == "zh-CN"
        assert b.js("document.querySelector('a[hreflang=en]').innerText") == "English"
        b.shot("07-scan-valid.png")
        print(f"  verdict: {' / '.join(text.splitlines())}")
        b.go(url + "?lang=en")
        state, text = verdict(b)
        assert state == "valid" and "VALID" in text and "有效" not in text, text
        b.shot("08-scan-valid-en.png")

        print("the revoked licence: not offered on /holder; a phone app's code, scanned twice")
        b.go(f"{BASE}/holder")
        assert "此证照已注销，不能出示" in b.js("document.body.innerText")
        url = present_by_api(REVOKED, 300, single_use=True)
        b.go(url)
        state, text = verdict(b)
        assert state == "invalid" and "无效" in text and "注销" in text, f"got {state}: {text}"
        b.shot("09-scan-revoked.png")
        print(f"  verdict: {' / '.join(text.splitlines())}")
        b.go(url + "?lang=zh")
        assert "二维码已使用" in b.js("document.body.innerText")
        b.shot("10-scan-used.png")

        print("a licence past its validity (a phone app's code: /holder does not offer it)")
        url = present_by_api(EXPIRED, 300)
        b.go(url)
        state, text = verdict(b)
        assert state == "invalid" and "已超过有效期" in text, f"got {state}: {text}"
        b.shot("11-scan-licence-expired.png")

        print("a code past its lifetime")
        time.sleep(max(0.0, made + 31 - time.time()))
        b.go(soon_expired)
        assert "二维码已过期" in b.js("document.body.innerText")
        b.shot("12-scan-code-expired.png")

        print("the holder sees every scan")
        b.go(f"{BASE}/holder")
        text = b.js("document.body.innerText")
        assert "扫码出示" in text and "已注销" in text, text
        b.shot("13-holder-after-scans.png")
    finally:
        b.close()
    print("e2e: all checks passed")


if __name__ == "__main__":
    main()
