"""What the form tests read and do on Voilà's page of an app notebook: the form's CSS classes.

The classes are the ones jupyter_workflow/widgets gives its widgets: the form ``jw-form``,
each field ``jw-field-<name>`` with its message ``jw-field-error``, the buttons ``jw-run``
and ``jw-cancel``, a node's row ``jw-node-<id>`` with its state ``jw-state-<status>``,
the run's status ``jw-run-status``, the results ``jw-results`` with ``jw-output-<name>``.
"""

import re
from pathlib import Path

import nbformat
from playwright.sync_api import expect

from labsession import SCREENSHOTS

# The first page of a Voilà server starts a kernel, which starts the run's kernel pool.
PAGE_TIMEOUT_MS = 120_000


def add_gate(notebook: Path, gate: Path) -> None:
    """Make a component notebook wait, in a first cell, until the file ``gate`` exists: a run held while it runs."""
    content = nbformat.read(notebook, as_version=4)
    wait = f"import pathlib, time\n\nwhile not pathlib.Path({str(gate)!r}).exists():\n    time.sleep(0.05)"
    content.cells.insert(0, nbformat.v4.new_code_cell(wait, id="test-gate"))
    nbformat.write(content, notebook)


def offline(page, origin: str) -> None:
    """Answer the page's requests beyond ``origin`` with an empty stylesheet.

    This machine has no Internet: Voilà's page template links Font Awesome from a CDN (the
    widgets bring their own icons), which would fail with a console error.
    """
    page.route(lambda address: not address.startswith(origin), lambda route: route.fulfill(content_type="text/css"))


class FormPage:
    """A workflow's form as Voilà shows it in one browser page; it records console errors."""

    def __init__(self, page, url: str, test_name: str):
        self.page, self.url, self.test_name = page, url, test_name
        self.errors: list[str] = []
        offline(page, url)
        page.on("console", lambda message: message.type == "error" and self.errors.append(f"console error: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def open(self) -> None:
        """Load the page and wait until the form is drawn with its Run button."""
        self.page.goto(self.url)
        expect(self.page.locator(".jw-form .jw-run")).to_be_visible(timeout=PAGE_TIMEOUT_MS)

    @property
    def run_button(self):
        return self.page.locator(".jw-run")

    @property
    def cancel_button(self):
        return self.page.locator(".jw-cancel")

    def field(self, name: str):
        return self.page.locator(f".jw-field-{name}")

    def message(self, name: str):
        """The message under a field (empty while its value is fine)."""
        return self.field(name).locator(".jw-field-error")

    def type_into(self, name: str, text: str) -> None:
        """Replace the text of a field's box, as a user typing it."""
        box = self.field(name).locator("input, textarea").first
        box.fill(text)

    def slide_to(self, name: str, text: str) -> None:
        """Type a value into a slider's readout and confirm it with Enter."""
        readout = self.field(name).locator(".widget-readout")
        readout.click()
        readout.press("Control+A")
        readout.press_sequentially(text)
        readout.press("Enter")
        expect(readout).to_have_text(re.compile(rf"^{re.escape(text)}0*$"))  # shown with the slider's digits

    def node(self, node_id: str, status: str | None = None):
        """A node's row, or the row only once it is in ``status``."""
        return self.page.locator(f".jw-node-{node_id}" + (f".jw-state-{status}" if status else ""))

    def run_status(self, status: str):
        return self.page.locator(f".jw-run-status.jw-state-{status}")

    def output(self, name: str):
        return self.page.locator(f".jw-results .jw-output-{name}")

    def screenshot(self, suffix: str = "", down_to: str = ".jw-form") -> Path:
        """Save the page from its top down to the end of ``down_to`` as ``test-screenshots/<test name>[-suffix].png``.

        Voilà's page scrolls inside a container, so the page is made that tall for the picture.
        """
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}{'-' + suffix if suffix else ''}.png"
        viewport = self.page.viewport_size
        box = self.page.locator(down_to).bounding_box()
        bottom = box["y"] + box["height"] + 24 if box else 0
        self.page.set_viewport_size({"width": viewport["width"], "height": int(bottom) or viewport["height"]})
        try:
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(viewport)
        return path
