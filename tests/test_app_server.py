"""``POST /workflow/api/apps``: the app notebook of a workflow, made by the server for "Open as form"."""

import shutil
from pathlib import Path

import nbformat
import pytest
from test_server import call, document_problems

pytestmark = pytest.mark.kernels

EXAMPLES = Path(__file__).parents[1] / "notebooks"


@pytest.fixture
def examples(jp_root_dir) -> Path:
    """The examples in the served folder, without their app."""
    shutil.copytree(EXAMPLES, jp_root_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("apps"))
    return jp_root_dir


async def test_the_app_is_written_once_beside_the_workflow(jp_fetch, examples):
    made = await call(jp_fetch, "apps", method="POST", body={"path": "reconcile.workflow.json"})
    assert made == {"app": "apps/reconcile.ipynb", "created": True, "voila": False}
    assert document_problems("App", made) == []
    [cell] = nbformat.read(examples / "apps" / "reconcile.ipynb", as_version=4).cells
    assert cell.source.endswith('WorkflowForm("../reconcile.workflow.json")')

    (examples / "apps" / "reconcile.ipynb").write_text("edited by hand")
    again = await call(jp_fetch, "apps", method="POST", body={"path": "reconcile.workflow.json"})
    assert again["created"] is False and (examples / "apps" / "reconcile.ipynb").read_text() == "edited by hand"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("../outside.workflow.json", 403),
        ("missing.workflow.json", 404),
        ("components/fuzzy_match.ipynb", 400),
        ("broken.workflow.json", 422),
    ],
)
async def test_paths_that_name_no_valid_workflow_in_the_root_are_refused(jp_fetch, examples, path, status):
    (examples / "broken.workflow.json").write_text('{"format": "jupyter-workflow/1"}')
    (examples.parent / "outside.workflow.json").write_text((examples / "reconcile.workflow.json").read_text())
    refused = await call(jp_fetch, "apps", method="POST", body={"path": path}, expect=status)
    assert document_problems("Error", refused) == [] and refused["message"]
    assert not (examples / "apps").exists() and not (examples.parent / "apps").exists()


async def test_a_body_without_a_path_is_a_bad_request(jp_fetch, examples):
    refused = await call(jp_fetch, "apps", method="POST", body={"workflow": "reconcile.workflow.json"}, expect=400)
    assert refused["errors"] == [{"pointer": "/path", "message": "required"}]


class TestWithVoila:
    """Voilà's server extension on: the panel can show the app rendered."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        extensions = jp_server_config["ServerApp"]["jpserver_extensions"]
        return {"ServerApp": {"jpserver_extensions": {**extensions, "voila.server_extension": True}}}

    async def test_the_answer_says_voila_renders_it(self, jp_fetch, examples):
        made = await call(jp_fetch, "apps", method="POST", body={"path": "reconcile.workflow.json"})
        assert made["voila"] is True
        page = await jp_fetch("voila", "render", made["app"], raise_error=False)
        assert page.code == 200
