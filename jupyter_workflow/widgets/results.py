"""A run's outputs and failures as HTML for people, by kind of value (the table :data:`RENDERERS`).

Artifacts are loaded first (a DataFrame, an array, bytes, a file's path, JSON), then the
first renderer whose test accepts the value draws it. Files and tables are offered for
download as ``data:`` links, which work in JupyterLab and in Voilà alike, up to
:data:`DOWNLOAD_LIMIT` bytes. Loading reads files: call these functions off the kernel's loop.
"""

import base64
import html
import json
import mimetypes
import re
import sys
from collections.abc import Callable
from pathlib import Path

from jupyter_workflow.runtime.artifacts import ArtifactRef

TABLE_ROWS = 20  # rows of a table shown on the page; the download has them all
DOWNLOAD_LIMIT = 10_000_000  # bytes offered as a download link from the page
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".svg": "image/svg+xml"}
_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.1f} kB"


def _too_large(file_name: str, size: int, where: str | None) -> str:
    place = f" It is at <code>{html.escape(where)}</code>." if where else ""
    return (f'<p class="jw-too-large">“{html.escape(file_name)}” is {_size(size)}, more than the '
            f"{_size(DOWNLOAD_LIMIT)} this page can offer for download.{place}</p>")


def download_link(file_name: str, data: bytes, mime: str) -> str:
    """A link that downloads ``data`` as ``file_name``; past the limit, a sentence saying so instead."""
    if len(data) > DOWNLOAD_LIMIT:
        return _too_large(file_name, len(data), None)
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<a class="jw-download" download="{html.escape(file_name)}" href="data:{mime};base64,{encoded}">'
            f"Download {html.escape(file_name)}</a> ({_size(len(data))})")


def _table(frame, name: str) -> str:
    index = type(frame.index).__name__ != "RangeIndex"  # row numbers 0, 1, 2… say nothing
    shown = frame.head(TABLE_ROWS).to_html(classes="jw-table", border=0, max_cols=30, index=index)
    rows = len(frame)
    more = f", the first {TABLE_ROWS} shown" if rows > TABLE_ROWS else ""
    csv = frame.to_csv(index=index).encode("utf-8")
    return (f'<div class="jw-table-wrap">{shown}</div><p class="jw-row-count">{rows} row{"s" if rows != 1 else ""}{more}</p>'
            + download_link(f"{name}.csv", csv, "text/csv"))


def _image(data: bytes, mime: str) -> str:
    return f'<img src="data:{mime};base64,{base64.b64encode(data).decode("ascii")}" style="max-width:100%">'


def _image_type(data: bytes) -> str | None:
    if data.lstrip()[:5] in (b"<?xml", b"<svg ") and b"<svg" in data[:1000]:
        return "image/svg+xml"
    return next((mime for magic, mime in _MAGIC.items() if data.startswith(magic)), None)


def _file(path: Path, name: str) -> str:
    if not path.is_file():
        return f"<p>The file <code>{html.escape(str(path))}</code> no longer exists.</p>"
    if path.stat().st_size > DOWNLOAD_LIMIT:
        return _too_large(path.name, path.stat().st_size, str(path))
    data = path.read_bytes()
    if path.suffix.lower() in IMAGE_TYPES:
        return _image(data, IMAGE_TYPES[path.suffix.lower()])
    if path.suffix.lower() in (".html", ".htm"):  # e.g. a plotly figure written with write_html
        frame = (f'<iframe class="jw-html-file" sandbox="allow-scripts" style="width:100%;height:480px;border:0" '
                 f'srcdoc="{html.escape(data.decode("utf-8", "replace"))}"></iframe>')
        return frame + download_link(path.name, data, "text/html")
    return download_link(path.name, data, mimetypes.guess_type(path.name)[0] or "application/octet-stream")


def _bytes(data: bytes, name: str) -> str:
    mime = _image_type(data)
    return _image(data, mime) if mime else download_link(f"{name}.bin", data, "application/octet-stream")


def _scalar(value, name: str) -> str:
    text = json.dumps(value) if isinstance(value, bool) or value is None else str(value)
    return f'<span class="jw-value">{html.escape(text)}</span>'


def _is_flat(value) -> bool:
    return isinstance(value, dict) and all(not isinstance(item, (dict, list)) for item in value.values())


def _json(value, name: str) -> str:
    if _is_flat(value) and value:
        rows = "".join(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(json.dumps(item))}</td></tr>"
                       for key, item in value.items())
        return f'<table class="jw-table">{rows}</table>'
    return f'<pre class="jw-json">{html.escape(json.dumps(value, indent=2))}</pre>'


def _array(array, name: str) -> str:
    return f'<pre class="jw-array">{html.escape(repr(array))}</pre>'


def _type_is(module: str, name: str) -> Callable[[object], bool]:
    """A test for instances of ``module.name`` that imports nothing: without the module loaded, there are none."""

    def accepts(value) -> bool:
        loaded = sys.modules.get(module)
        return loaded is not None and isinstance(value, getattr(loaded, name))

    return accepts


# Value kind → renderer(value, output name) → HTML; first match wins.
RENDERERS: list[tuple[Callable[[object], bool], Callable[[object, str], str]]] = [
    (_type_is("pandas", "DataFrame"), _table),
    (_type_is("pandas", "Series"), lambda series, name: _table(series.to_frame(), name)),
    (_type_is("numpy", "ndarray"), _array),
    (lambda value: isinstance(value, (bytes, bytearray, memoryview)), lambda data, name: _bytes(bytes(data), name)),
    (lambda value: isinstance(value, Path), lambda path, name: _file(path, name)),
    (lambda value: value is None or isinstance(value, (bool, int, float, str)), _scalar),
    (lambda value: True, _json),
]


def render_output(name: str, value, declaration: dict | None = None) -> str:
    """The HTML for one output: artifacts loaded, paths of declared files read."""
    declaration = declaration or {}
    try:
        if isinstance(value, ArtifactRef):
            value = value.load()
    except (OSError, ValueError) as error:
        return f"<p>The output could not be read: {html.escape(str(error))}</p>"
    if isinstance(value, str) and "file" in (declaration.get("format"), declaration.get("type")):
        value = Path(value)
    title = declaration.get("title") or name
    try:
        body = next(render for accepts, render in RENDERERS if accepts(value))(value, name)
    except Exception as error:  # one output that cannot be drawn leaves the others shown
        body = f"<p>This output could not be shown: {html.escape(type(error).__name__)}: {html.escape(str(error))}</p>"
    return f"<h4>{html.escape(title)}</h4>{body}"


def render_failure(error: dict, node_title: str | None, notebook: str | None) -> str:
    """A failure in one sentence, its traceback behind "Details", and its executed notebook to download."""
    where = f"The node “{node_title}” failed" if node_title else "The run failed"
    sentence = f"{where}: {error.get('ename', 'Error')}: {error.get('evalue', '')}".rstrip(": ")
    traceback = _ANSI.sub("", error.get("traceback") or "")
    parts = [f'<p class="jw-failure-sentence">{html.escape(sentence)}</p>']
    if traceback:
        parts.append(f'<details class="jw-details"><summary>Details</summary><pre>{html.escape(traceback)}</pre></details>')
    if notebook and Path(notebook).is_file():
        parts.append(f'<p class="jw-notebook">Executed notebook: <code>{html.escape(notebook)}</code> '
                     + download_link(Path(notebook).name, Path(notebook).read_bytes(), "application/x-ipynb+json")
                     + "</p>")
    return "".join(parts)
