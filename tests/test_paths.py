"""Containment of user-given paths in their root folder, checked where the file is read."""

import os

import pytest

from jupyter_workflow.model.paths import PathOutsideRoot, is_inside, name_problem, read_inside, resolve_inside


@pytest.fixture
def root(tmp_path):
    (tmp_path / "root" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "sub" / "a.ipynb").write_text("inside")
    (tmp_path / "outside.ipynb").write_text("secret")
    return tmp_path / "root"


@pytest.mark.parametrize("name", ["", "/etc/passwd", "~/x", "a\nb.workflow.json", "tab\there", "nul\x00", "\udcff.json"])
def test_names_a_person_could_not_mean_are_refused(name):
    assert name_problem(name) is not None
    with pytest.raises(PathOutsideRoot):
        resolve_inside("/tmp", name)


def test_links_are_followed_before_the_check(root):
    os.symlink(root.parent / "outside.ipynb", root / "link.ipynb")
    os.symlink(root / "sub", root / "alias")
    assert resolve_inside(root, "alias/a.ipynb") == (root / "sub" / "a.ipynb").resolve()
    assert not is_inside(root, root / "link.ipynb")
    for name in ("link.ipynb", "../outside.ipynb", "sub/../../outside.ipynb"):
        with pytest.raises(PathOutsideRoot):
            resolve_inside(root, name)


def test_a_file_replaced_by_a_link_after_a_check_is_not_read(root):
    notebook = resolve_inside(root, "sub/a.ipynb")
    assert read_inside(root, notebook) == (notebook, b"inside")
    notebook.unlink()
    os.symlink(root.parent / "outside.ipynb", notebook)
    with pytest.raises(PathOutsideRoot):
        read_inside(root, notebook)
