"""A minimal Streamlit client over the app's own websocket protocol, for load benchmarks.

A browser does two things against a Streamlit server: it fetches the frontend's static files over
HTTP, and it speaks protobuf `BackMsg`/`ForwardMsg` over `/_stcore/stream` (ask for a script run
with the widgets' values, receive the page's elements until the run finishes). This client does
both without rendering anything, so a class of sessions costs the machine almost nothing but the
server's own work: thirty browsers on two cores would measure the browsers.

What it sends is what the frontend sends for the same clicks: the page's hash to open a page, the
form's values with the submit button's trigger to sign in, a slider's value as a one-element
double array. It keeps no forward-message cache (a browser would, so a rerun here costs the server
slightly more than a browser's).
"""

from __future__ import annotations

import asyncio
import gzip
import time
import urllib.request
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

TEXT_ELEMENTS = ("markdown", "heading", "text", "alert", "caption", "code", "exception")


@dataclass
class PageView:
    """What one script run showed: its texts, its widgets by label, how many charts, and how long
    from the request to the run's end."""

    texts: list[str] = field(default_factory=list)
    widgets: dict[str, object] = field(default_factory=dict)
    charts: int = 0
    exceptions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bytes_received: int = 0

    def shows(self, text: str) -> bool:
        return any(text in t for t in self.texts)


class StreamlitSession:
    """One visitor's session: `await open()`, then `await run(...)` per click, then `close()`."""

    def __init__(self, base_url: str, timeout: float = 300.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.pages: dict[str, str] = {}  # page name ("explore") -> page_script_hash
        self.page_hash = ""
        self._ws = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        ws_url = self.base_url.replace("http://", "ws://") + "/_stcore/stream"
        self._ws = await connect(
            ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def run(self, page: str | None = None, widgets: list[WidgetState] = ()) -> PageView:
        """Ask for a script run (on `page`, by name, or the current one) with these widget
        values; return what it showed once the run finished."""
        if page is not None:
            self.page_hash = self.pages.get(page, "")
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.widget_states.widgets.extend(widgets)
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        view = PageView()
        async with asyncio.timeout(self.timeout):
            while True:
                data = await self._ws.recv()
                view.bytes_received += len(data)
                fwd = ForwardMsg()
                fwd.ParseFromString(data)
                kind = fwd.WhichOneof("type")
                if kind == "navigation":
                    for app_page in fwd.navigation.app_pages:
                        name = app_page.url_pathname or app_page.page_name
                        self.pages[name.lower()] = app_page.page_script_hash
                    self.page_hash = fwd.navigation.page_script_hash or self.page_hash
                elif kind == "delta":
                    _collect(fwd.delta, view)
                elif kind == "script_finished":
                    if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue  # the server reran at once (a widget callback): keep reading
                    break
        view.seconds = time.perf_counter() - start
        return view


def _collect(delta, view: PageView) -> None:
    if delta.WhichOneof("type") != "new_element":
        return
    element = delta.new_element
    kind = element.WhichOneof("type")
    body = getattr(element, kind)
    if kind in TEXT_ELEMENTS:
        text = getattr(body, "body", "") or getattr(body, "message", "")
        view.texts.append(text)
        if kind == "exception":
            view.exceptions.append(f"{body.type}: {body.message}")
    elif kind in ("plotly_chart", "arrow_vega_lite_chart", "vega_lite_chart"):
        view.charts += 1
    label = getattr(body, "label", None)
    if label is not None and getattr(body, "id", ""):
        view.widgets[label] = body


def trigger(widget) -> WidgetState:
    """A button's click (a form's submit button included)."""
    return WidgetState(id=widget.id, trigger_value=True)


def text(widget, value: str) -> WidgetState:
    return WidgetState(id=widget.id, string_value=value)


def slider(widget, value: float) -> WidgetState:
    state = WidgetState(id=widget.id)
    state.double_array_value.data.append(value)
    return state


def fetch(base_url: str, paths: list[str]) -> int:
    """GET each path as a browser with an empty cache would (gzip accepted); the bytes
    received. Blocking: call it in a thread."""
    total = 0
    for path in paths:
        request = urllib.request.Request(
            base_url.rstrip("/") + path, headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            body = response.read()
            total += len(body)
            if response.headers.get("Content-Encoding") == "gzip":
                gzip.decompress(body)  # a browser inflates what it is sent
    return total
