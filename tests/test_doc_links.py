"""Every relative link and image of the project's Markdown points at a file of the repository."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", REPO / "labextension" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def relative_targets(text: str) -> list[str]:
    """The link targets that name a file of the repository (no URL, no in-page anchor)."""
    targets = (match.group(1).split("#", 1)[0] for match in LINK.finditer(text))
    return [target for target in targets if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


def test_links_are_found_in_both_forms():
    assert relative_targets("see ![a](docs/a.png) and [b](b.md#part), [c](https://x.org/c.md)") == ["docs/a.png", "b.md"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_resolve(document):
    missing = [target for target in relative_targets(document.read_text())
               if not (document.parent / target).exists()]
    assert missing == []
