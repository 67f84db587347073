"""The kernel-side runtime on its own: what record() stores and what importing it costs."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_workflow.runtime import ARTIFACTS_DIR_ENV, RECORD_MIME_TYPE, UnrecordableValue, load_artifact, record
from jupyter_workflow.runtime.artifacts import ArtifactRef, decode_refs, encode_refs, inline_json, write_artifact

HEAVY_MODULES = ["sqlalchemy", "alembic", "pandas", "numpy", "pyarrow", "papermill", "nbformat", "nbclient",
                 "jsonschema", "jupyter_client", "ipywidgets", "traitlets", "jmespath", "IPython"]


def test_importing_the_runtime_pulls_in_nothing_heavy():
    code = (
        "import sys, json\nfrom jupyter_workflow import record\n"
        f"print(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded == []


def test_small_json_is_inline_and_large_or_rich_values_are_artifacts(tmp_path):
    assert inline_json({"a": [1, 2.5, None, True]}).value == {"a": [1, 2.5, None, True]}
    assert inline_json(np.int64(7)).value == 7
    assert inline_json(list(range(400_000))) is None
    assert inline_json(b"bytes") is None and inline_json(pd.DataFrame({"a": [1]})) is None
    with pytest.raises(UnrecordableValue, match="NaN"):
        inline_json(float("nan"))

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    ref = write_artifact(tmp_path, "frame", frame)
    assert ref.meta["format"] == "parquet" and ref.meta["size"] == ref.path.stat().st_size
    pd.testing.assert_frame_equal(ref.load(), frame)
    series = write_artifact(tmp_path, "series", pd.Series([1.5, 2.5], name="s")).load()
    assert isinstance(series, pd.Series) and series.name == "s" and list(series) == [1.5, 2.5]
    with pytest.raises(UnrecordableValue, match="cannot be stored as Parquet"):
        write_artifact(tmp_path, "bad", pd.DataFrame({1: [object()]}))
    with pytest.raises(UnrecordableValue, match="without pickle"):
        write_artifact(tmp_path, "objects", np.array([object()]))
    with pytest.raises(UnrecordableValue, match="no such file"):
        write_artifact(tmp_path, "missing", tmp_path / "nope.txt")


def test_references_round_trip_through_json(tmp_path):
    ref = write_artifact(tmp_path, "blob", b"\x00\x01")
    encoded = json.loads(json.dumps(encode_refs({"x": [ref, 1]})))
    decoded = decode_refs(encoded)
    assert isinstance(decoded["x"][0], ArtifactRef) and decoded["x"][0].load() == b"\x00\x01"
    assert str(decoded["x"][0]) == ref.meta["uri"]  # other kernels receive the URI
    ref.path.unlink()
    with pytest.raises(FileNotFoundError, match="is missing"):
        load_artifact(ref.meta)


def test_record_publishes_display_data_with_the_versioned_mime_type(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    monkeypatch.setenv(ARTIFACTS_DIR_ENV, str(tmp_path))
    record("count", 3)
    record("frame", pd.DataFrame({"a": [1]}))
    assert shown[0][RECORD_MIME_TYPE] == {"name": "count", "value": 3}
    artifact = shown[1][RECORD_MIME_TYPE]["artifact"]
    assert Path(ArtifactRef(artifact).path).parent == tmp_path and artifact["type"] == "pandas.DataFrame"
    with pytest.raises(ValueError, match="identifier"):
        record("not a name", 1)


def test_recorded_objects_shaped_like_references_stay_plain_values(tmp_path):
    lookalike = {"$artifact": {"uri": "file:///etc/hostname", "format": "bytes"}}
    nested = {"$value": {"$artifact": 1}}
    ref = write_artifact(tmp_path, "blob", b"x")
    for value in (lookalike, nested, [lookalike, ref], {"a": nested}):
        assert decode_refs(json.loads(json.dumps(encode_refs(value)))) == value


def test_recorded_files_are_named_after_their_output(tmp_path):
    out = tmp_path / "artifacts"
    out.mkdir()
    for folder, text in (("x", "one"), ("y", "two")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "data.csv").write_text(text)
    first = write_artifact(out, "first", tmp_path / "x" / "data.csv")
    second = write_artifact(out, "second", tmp_path / "y" / "data.csv")
    assert (first.load().read_text(), second.load().read_text()) == ("one", "two")
    assert first.path.name == "first.csv"
