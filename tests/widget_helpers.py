"""Workflows and waits for the forms' tests (tests/test_widgets*.py).

``every_kind_workflow(folder)`` writes a workflow declaring one input of each kind a form
offers; ``until(condition, timeout)`` waits on the running event loop for ``condition()``
to hold; ``uploaded(name, content)`` is a FileUpload value as the browser sends it.
"""

import asyncio
import time
from datetime import datetime, timezone

from notebook_factory import make_notebook, write_workflow

EVERY_KIND = {
    "count": {"type": "integer", "minimum": 1, "default": 3, "title": "Count", "description": "How many."},
    "ratio": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
    "flag": {"type": "boolean", "default": False},
    "mode": {"enum": ["fast", "slow", 3], "default": "fast"},
    "day": {"type": "string", "format": "date", "default": "2026-10-01"},
    "at": {"type": "string", "format": "date-time"},
    "name": {"type": "string", "title": "Your name"},
    "notes": {"type": "string", "multiline": True, "default": ""},
    "password": {"type": "string", "secret": True},
    "data": {"type": "string", "format": "file", "accept": ".csv"},
    "tags": {"type": "array", "items": {"type": "string"}, "default": ["a"]},
    "options": {"type": "object", "default": {"k": 1}},
}


def every_kind_workflow(folder):
    """A one-node workflow with an input of every kind; its node greets ``name`` and counts the password's letters."""
    make_notebook(folder / "greet.ipynb", "name = 'world'\nword = ''", (
        "from jupyter_workflow import record\nrecord('greeting', f'hello {name} ({len(word)} letters)')"))
    return write_workflow(folder / "kinds.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "kinds",
        "title": "Every kind",
        "description": "One input of each kind.",
        "inputs": EVERY_KIND,
        "nodes": {"greet": {"notebook": "greet.ipynb", "parameters": {"name": {"input": "name"},
                                                                     "word": {"input": "password"}}}},
        "outputs": {"greeting": {"output": "greet.greeting"}},
    })


def uploaded(name: str, content: bytes) -> tuple[dict]:
    """A FileUpload value holding one file."""
    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
             "last_modified": datetime.now(timezone.utc)},)


async def until(condition, timeout: float = 60, what: str = "the condition"):
    """Wait, letting the loop run, until ``condition()`` is true; its value. AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} did not hold within {timeout} s"
        await asyncio.sleep(0.05)
    return value
