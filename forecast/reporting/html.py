"""The one HTML stack of every report (scenario run, backtest, SBC): figures, tables, page.

Figures are matplotlib `Figure` objects drawn without pyplot, so no module switches the
global matplotlib backend and a notebook keeps its own.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em;color:#222}"
         "table.t{border-collapse:collapse;font-size:12px}table.t td,table.t th{padding:2px 6px;"
         "border-bottom:1px solid #ddd}.bad{color:#fff;background:#c00;padding:8px;font-weight:bold}"
         ".ok{color:#064;background:#e6f4ea;padding:6px}img{max-width:100%}pre{font-size:11px;"
         "white-space:pre-wrap}.dl{font-size:12px;margin:2px 0 12px}.bottom li{margin:4px 0;font-size:15px}"
         "dl.sc dt{font-weight:bold;margin-top:6px}dl.sc dd{margin-left:1.5em}"
         ".note{font-size:12px;color:#555}")


def png_bytes(fig: Figure, dpi: int = 110, tight: bool = False) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    return buffer.getvalue()


def img_tag(data: bytes, name: str = "") -> str:
    """An <img> with the PNG embedded (the report stays one self-contained file)."""
    return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


class Figures:
    """Renders each figure once: embedded in the HTML and kept as PNG bytes for files."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def embed(self, name: str, fig: Figure, dpi: int = 110, tight: bool = False) -> str:
        data = png_bytes(fig, dpi, tight)
        self.files[f"{name}.png"] = data
        return img_tag(data, name)


def table(frame: pd.DataFrame, digits: int = 2, counts: Sequence[str] = (), download: str | None = None,
          data: pd.DataFrame | None = None) -> str:
    """An HTML table; `counts` columns as whole numbers; `download`: a link to the table as CSV
    (`data`, default the shown frame), embedded as a data: URI so the page stays one file."""
    formatters = {c: (lambda v: f"{v:,.0f}") for c in counts if c in frame.columns}
    out = frame.to_html(index=False, float_format=lambda v: f"{v:,.{digits}f}", formatters=formatters,
                        border=0, classes="t")
    if download:
        out += csv_link(frame if data is None else data, download)
    return out


def csv_link(frame: pd.DataFrame, filename: str) -> str:
    """A download link carrying the table as CSV inside the page (no file beside it needed)."""
    payload = base64.b64encode(frame.to_csv(index=False, lineterminator="\n").encode()).decode()
    return (f'<p class="dl"><a download="{html.escape(filename)}" href="data:text/csv;base64,{payload}">'
            f"Download {html.escape(filename)}</a></p>")


def page(title: str, body: str, head: str = "") -> str:
    """A whole HTML document with the shared style (`head`: e.g. an inline script library)."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style>{head}</head><body>{body}</body></html>")
