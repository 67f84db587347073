"""The import direction of docs/architecture.md, held by reading every module's imports.

Each part of the package may import only the parts below it; a part not listed here
fails the test until it is placed.
"""

import ast
from pathlib import Path

import jupyter_workflow

PACKAGE = Path(jupyter_workflow.__file__).parent

# A part → the parts it may import (besides itself). "engine.state" allows that module alone.
ALLOWED = {
    "runtime": set(),
    "processes": set(),
    "events": {"runtime"},
    "model": {"events", "runtime"},
    "engine": {"events", "model", "processes", "runtime"},
    "store": {"events", "model", "processes", "runtime", "engine.state", "schedules.catchup", "schedules.cron"},
    "config": {"engine.forking", "engine.pool", "runtime"},
    "runner": {"config", "engine", "events", "model", "store"},
    "examples": set(),
    "apps": {"model"},
    "api": {"config", "engine", "events", "model", "runner", "store"},
    "schedules": {"config", "engine", "events", "model", "processes", "runner", "runtime", "store"},
    "cli": {"apps", "config", "engine", "events", "examples", "model", "runner", "runtime", "schedules", "store"},
    "server": {"apps", "config", "engine", "events", "model", "runner", "runtime", "schedules", "store"},
    "widgets": {"api", "engine", "events", "model", "runtime", "store"},
    "__init__": {"api", "runtime", "server"},
}


def imported_parts(path: Path) -> set[str]:
    """The package's modules that a file imports, anywhere in it, as ``part`` or ``part.module``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name.removeprefix("jupyter_workflow.") for name in names if name.startswith("jupyter_workflow.")}
        if isinstance(node, ast.ImportFrom) and node.module == "jupyter_workflow":
            found |= {alias.name for alias in node.names}
    return found


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    return relative.parts[0]


def test_every_part_imports_only_the_parts_below_it():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = part_of(path)
        assert part in ALLOWED, f"{path.relative_to(PACKAGE)}: {part!r} has no place in the layers; add it"
        for name in imported_parts(path):
            target = name.split(".")[0]
            if target == part:
                continue
            allowed = ALLOWED[part]
            if target not in allowed and not any(name == a or name.startswith(a + ".") for a in allowed if "." in a):
                wrong.append(f"{path.relative_to(PACKAGE)} imports jupyter_workflow.{name}")
    assert wrong == []


def test_the_rule_catches_an_upward_import(tmp_path):
    module = tmp_path / "example.py"
    module.write_text("from jupyter_workflow.engine.engine import Engine\nimport jupyter_workflow.server.handlers\n")
    assert imported_parts(module) == {"engine.engine", "engine.engine.Engine", "server.handlers"}
