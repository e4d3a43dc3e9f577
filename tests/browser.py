"""Headless Chromium for the tests: a page laid out at a given width, measured and photographed.

Debian's `chromium` package (`.ci/run` installs it when missing). Headless Chromium will not
open a window narrower than 500 px, so the page is driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`): the viewport is set to the width asked for (a phone's 390 px is
emulated as a phone), the page loaded, a script measures it, and a full-page screenshot is taken.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
TIMEOUT = 90.0  # seconds for any one step; a cold start on a busy two-core machine takes a few
PHONE_WIDTH = 600  # narrower than this is emulated as a phone (meta viewport honoured)

MEASURE = """
(function () {
  var root = document.documentElement;
  var cells = [];
  document.querySelectorAll("td, th").forEach(function (c) {
    var r = c.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) { return; }  // not shown (a card table's header)
    cells.push({text: c.textContent.trim().slice(0, 60), left: r.left, right: r.right,
                scrollWidth: c.scrollWidth, clientWidth: c.clientWidth});
  });
  var images = [];
  document.querySelectorAll("img").forEach(function (i) {
    var r = i.getBoundingClientRect();
    images.push({alt: i.alt, left: r.left, right: r.right, width: r.width,
                 natural: i.naturalWidth});
  });
  return JSON.stringify({innerWidth: window.innerWidth, scrollWidth: root.scrollWidth,
                         bodyScrollWidth: document.body.scrollWidth,
                         height: root.scrollHeight, cells: cells, images: images});
})()
"""


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM, else the first of CANDIDATES on PATH."""
    named = os.environ.get("CHROMIUM")
    if named and Path(named).exists():
        return named
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_or_skip() -> str:
    """Chromium, or skip the test saying why; on CI a missing Chromium is a failure."""
    found = find_chromium()
    if found:
        return found
    reason = (
        "Chromium not found (tried $CHROMIUM and " + ", ".join(CANDIDATES) + " on PATH): "
        "`apt-get install chromium` to render the report"
    )
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must have it (.ci/run installs it)")
    pytest.skip(reason)


class Browser:
    """One headless Chromium spoken to over the DevTools pipe (fd 3: commands, fd 4: replies)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()

        def pipes() -> None:  # in the child, before exec: the protocol's fds 3 and 4
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self._proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=pipes,
            pass_fds=(3, 4),
            cwd=profile,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its reply (events on the way are kept)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        """Wait for an event (already received or still to come)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self.events[: i + 1]
                    return
            self.events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            if not ready:
                raise AssertionError("chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise AssertionError(f"chromium closed the pipe: {err[-2000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        """Close the browser and wait for it to exit."""
        with contextlib.suppress(AssertionError):
            self.call("Browser.close")
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        if self._proc.stderr:
            self._proc.stderr.close()


def render(
    chromium: str, page: Path, width: int, work: Path, screenshot: Path | None = None
) -> dict[str, Any]:
    """The page laid out `width` CSS px wide: the viewport's and the page's widths, the box of
    every table cell and image shown; with `screenshot`, a full-page PNG written there."""
    browser = Browser(chromium, work / f"profile-{width}")
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        metrics = {
            "width": width,
            "height": 900,
            "deviceScaleFactor": 1,
            "mobile": width < PHONE_WIDTH,
        }
        browser.call("Emulation.setDeviceMetricsOverride", session, **metrics)
        browser.call("Page.enable", session)
        browser.call("Page.navigate", session, url=page.as_uri())
        browser.wait_for("Page.loadEventFired", session)
        result = browser.call("Runtime.evaluate", session, expression=MEASURE, returnByValue=True)[
            "result"
        ]
        seen = json.loads(result["value"])
        if screenshot is not None:
            full = dict(metrics, height=min(int(seen["height"]) + 1, 16000))
            browser.call("Emulation.setDeviceMetricsOverride", session, **full)
            shot = browser.call("Page.captureScreenshot", session, format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        return seen
    finally:
        browser.close()
