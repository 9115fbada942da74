"""A real headless Chromium driven over the DevTools protocol, for tests of HTML a person opens.

Only the standard library: a minimal WebSocket client (RFC 6455, text frames) is enough for DevTools. The
`browser` fixture skips, with the reason, when no Chromium or Chrome is installed.
"""
import base64
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
from PIL import Image

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# DevTools key descriptions: key -> (code, Windows virtual key code)
KEYS = {"ArrowLeft": ("ArrowLeft", 37), "ArrowRight": ("ArrowRight", 39), "PageUp": ("PageUp", 33),
        "PageDown": ("PageDown", 34), "Home": ("Home", 36), "End": ("End", 35)}


class WebSocket:
    """Blocking WebSocket client: sends masked text frames, reads (possibly fragmented) messages."""

    def __init__(self, url: str, timeout: float = 30.0):
        parts = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"WebSocket handshake with {url} refused: {head[:200]!r}")

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("DevTools closed the connection")
        self.buffer += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        length = bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack(">H", n) if n < 1 << 16
                                                      else bytes([0x80 | 127]) + struct.pack(">Q", n))
        mask = os.urandom(4)
        masked = (np.frombuffer(payload, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), n)).tobytes()
        self.sock.sendall(bytes([0x80 | opcode]) + length + mask + masked)

    def send(self, text: str) -> None:
        self._send(0x1, text.encode())

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._take(8))[0]
            mask = self._take(4) if b1 & 0x80 else None
            data = self._take(n)
            if mask:
                data = (np.frombuffer(data, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), n)).tobytes()
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send(0xA, data)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += data
                if b0 & 0x80:
                    return message.decode()

    def close(self) -> None:
        self.sock.close()


class Tab:
    """One browser tab: DevTools calls, navigation, key and mouse events, screenshots."""

    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.last_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {method} within {timeout} s")

    def open(self, url: str) -> None:
        """Load ``url`` as a new document and wait for its load event and its images."""
        self.events.clear()
        self.call("Page.navigate", url="about:blank")
        self.wait_event("Page.loadEventFired")
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        self.settle()

    def js(self, expression: str):
        """The value of a JavaScript expression (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def settle(self) -> None:
        """Wait until every image has decoded and two frames have been drawn."""
        self.js("Promise.all([...document.images].map((im) => im.decode().catch(() => null)))"
                ".then(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))")

    def press(self, key: str, shift: bool = False) -> None:
        """A real key press (keyDown with its text for printable keys, then keyUp), then settle."""
        if len(key) == 1:
            code, vk, text = f"Key{key.upper()}" if key.isalpha() else f"Digit{key}", ord(key.upper()), key
        else:
            (code, vk), text = KEYS[key], None
        modifiers = 8 if shift else 0
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk, "modifiers": modifiers}
        if text:
            down["text"] = text.upper() if shift else text
            down["key"] = down["text"]
        self.call("Input.dispatchKeyEvent", **down)
        self.call("Input.dispatchKeyEvent", **{**down, "type": "keyUp", "text": ""})
        self.settle()

    def drag(self, x0: float, x1: float, y: float) -> None:
        """Press the left mouse button at (x0, y), move to (x1, y), release (CSS pixels)."""
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x0, y=y, button="left", clickCount=1)
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x1, y=y, button="left", buttons=1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x1, y=y, button="left", clickCount=1)
        self.settle()

    def screenshot(self) -> np.ndarray:
        """The viewport as uint8 RGB (H, W, 3), one pixel per CSS pixel."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def find_browser() -> str | None:
    return next(filter(None, map(shutil.which, BROWSERS)), None)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium tab with a 1000x800 viewport at device scale 1."""
    exe = find_browser()
    if exe is None:
        pytest.skip("no Chromium/Chrome found (install one: apt-get install -y chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run", "--hide-scrollbars", "--remote-debugging-port=0",
                             f"--user-data-dir={profile}", "--window-size=1000,800", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ws = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{exe} did not start its DevTools server (exit code {proc.poll()})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            targets = json.load(response)
        ws = WebSocket(next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"))
        tab = Tab(ws)
        tab.call("Page.enable")
        tab.call("Emulation.setDeviceMetricsOverride", width=1000, height=800, deviceScaleFactor=1, mobile=False)
        yield tab
    finally:
        if ws is not None:
            ws.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
