"""The one HTML stack of every report (scenario run, backtest, SBC): figures, tables, page.

Figures are matplotlib `Figure` objects drawn without pyplot, so no module switches the
global matplotlib backend and a notebook keeps its own.
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from matplotlib.figure import Figure

STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em;color:#222}"
         "table.t{border-collapse:collapse;font-size:12px}table.t td,table.t th{padding:2px 6px;"
         "border-bottom:1px solid #ddd}.bad{color:#fff;background:#c00;padding:8px;font-weight:bold}"
         ".ok{color:#064;background:#e6f4ea;padding:6px}img{max-width:100%}pre{font-size:11px;"
         "white-space:pre-wrap}")


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


def table(frame: pd.DataFrame, digits: int = 2) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.{digits}f}", border=0, classes="t")


def page(title: str, body: str) -> str:
    """A whole HTML document with the shared style."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")
