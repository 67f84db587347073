"""Artifacts: node outputs too large or too rich for the notebook's JSON.

Each artifact is one file in the node's artifact folder; a reference to it (URI, format,
size, SHA-256, Python type) is what travels in the executed notebook and the run store.
"""

import hashlib
import json
import math
import shutil
import sys
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlparse

INLINE_LIMIT_BYTES = 1_000_000


class UnrecordableValue(TypeError):
    """A value that ``record`` cannot store."""


class InlineValue(NamedTuple):
    value: object
    summary: str


class ArtifactRef(str):
    """A reference to an artifact; as a string it is the artifact's URI.

    Non-Python kernels receive the URI; Python nodes receive the loaded object.
    """

    def __new__(cls, meta: dict):
        ref = super().__new__(cls, meta["uri"])
        ref.meta = dict(meta)
        return ref

    def __reduce__(self):
        return (ArtifactRef, (self.meta,))

    @property
    def path(self) -> Path:
        return uri_to_path(self.meta["uri"])

    def load(self):
        """The stored object: a DataFrame, array, bytes, JSON value or file path."""
        return load_artifact(self.meta)


def uri_to_path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        raise ValueError(f"only file artifacts can be opened here, not {uri!r}")
    return Path(unquote(parsed.path))


def _plain_scalar(value):
    """NumPy scalars become the Python scalar they hold."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def inline_json(value):
    """``InlineValue`` when ``value`` is JSON small enough for the notebook, else None."""
    value = _plain_scalar(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise UnrecordableValue(f"cannot record {value!r}: JSON has no NaN or infinity")
    if isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "__fspath__"):
        return None
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None
    if len(text) > INLINE_LIMIT_BYTES:
        return None
    summary = text if len(text) <= 80 else text[:77] + "..."
    return InlineValue(json.loads(text), summary)


def _instance_of(value, module: str, name: str) -> bool:
    """isinstance against a class of a module, without importing that module."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(value, getattr(loaded, name))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_dataframe(frame, path: Path) -> None:
    try:
        frame.to_parquet(path)
    except ImportError as error:
        raise UnrecordableValue(f"recording a DataFrame needs pyarrow: {error}") from error
    except (ValueError, TypeError) as error:
        raise UnrecordableValue(f"this DataFrame cannot be stored as Parquet: {error}") from error


def write_artifact(folder: Path, name: str, value) -> ArtifactRef:
    """Write ``value`` into ``folder`` as artifact ``name``; return its reference."""
    if _instance_of(value, "pandas", "DataFrame"):
        path, fmt, kind = folder / f"{name}.parquet", "parquet", "pandas.DataFrame"
        _write_dataframe(value, path)
    elif _instance_of(value, "pandas", "Series"):
        path, fmt, kind = folder / f"{name}.parquet", "parquet", "pandas.Series"
        _write_dataframe(value.to_frame(), path)
    elif _instance_of(value, "numpy", "ndarray"):
        import numpy

        path, fmt, kind = folder / f"{name}.npy", "npy", "numpy.ndarray"
        try:
            numpy.save(path, value, allow_pickle=False)
        except ValueError as error:
            raise UnrecordableValue(f"this array cannot be stored without pickle: {error}") from error
    elif isinstance(value, (bytes, bytearray, memoryview)):
        path, fmt, kind = folder / f"{name}.bin", "bytes", "bytes"
        path.write_bytes(bytes(value))
    elif hasattr(value, "__fspath__"):
        source = Path(value).resolve()
        if not source.is_file():
            raise UnrecordableValue(f"cannot record file {str(value)!r}: no such file")
        path, fmt, kind = source, "file", "file"
        if source.parent != folder.resolve():
            path = folder / f"{name}{source.suffix}"
            shutil.copyfile(source, path)
    else:
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise UnrecordableValue(
                f"cannot record a value of type {type(value).__module__}.{type(value).__qualname__}: "
                "record JSON values, pandas DataFrames or Series, NumPy arrays, bytes or a pathlib.Path"
            ) from None
        path, fmt, kind = folder / f"{name}.json", "json", "json"
        path.write_text(text, encoding="utf-8")
    path = path.resolve()
    return ArtifactRef(
        {"uri": path.as_uri(), "format": fmt, "type": kind, "size": path.stat().st_size, "sha256": _sha256(path)}
    )


def load_artifact(ref):
    """Load an artifact from its reference (an ``ArtifactRef`` or its metadata dict)."""
    meta = ref.meta if isinstance(ref, ArtifactRef) else ref
    path = uri_to_path(meta["uri"])
    if not path.exists():
        raise FileNotFoundError(f"artifact {meta['uri']} is missing (was the run folder removed?)")
    fmt = meta["format"]
    if fmt == "parquet":
        import pyarrow.parquet

        frame = pyarrow.parquet.read_table(path, memory_map=True).to_pandas()
        return frame.iloc[:, 0] if meta.get("type") == "pandas.Series" else frame
    if fmt == "npy":
        import numpy

        return numpy.load(path, mmap_mode="r", allow_pickle=False)
    if fmt == "bytes":
        return path.read_bytes()
    if fmt == "json":
        return json.loads(path.read_text(encoding="utf-8"))
    if fmt == "file":
        return path
    raise ValueError(f"unknown artifact format {fmt!r} in {meta['uri']}")


ARTIFACT_KEY = "$artifact"
VALUE_KEY = "$value"


def iter_refs(value):
    """Every ``ArtifactRef`` in ``value``, however deeply nested."""
    if isinstance(value, ArtifactRef):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from iter_refs(item)


def contains_artifact(value) -> bool:
    """Whether ``value`` is, or holds somewhere inside, an ``ArtifactRef``."""
    return next(iter_refs(value), None) is not None


def encode_refs(value, describe=lambda ref: ref.meta):
    """A JSON-safe copy of ``value`` where each ``ArtifactRef`` becomes ``{"$artifact": describe(ref)}``.

    A plain object that has only the key ``$artifact`` or ``$value`` is wrapped as
    ``{"$value": ...}``, so decoding never mistakes a recorded value for a reference.
    """
    if isinstance(value, ArtifactRef):
        return {ARTIFACT_KEY: describe(value)}
    if isinstance(value, dict):
        encoded = {key: encode_refs(item, describe) for key, item in value.items()}
        return {VALUE_KEY: encoded} if set(value) in ({ARTIFACT_KEY}, {VALUE_KEY}) else encoded
    if isinstance(value, (list, tuple)):
        return [encode_refs(item, describe) for item in value]
    return value


def decode_refs(value):
    """The inverse of :func:`encode_refs`."""
    if isinstance(value, dict):
        if set(value) == {ARTIFACT_KEY}:
            return ArtifactRef(value[ARTIFACT_KEY])
        if set(value) == {VALUE_KEY}:
            return {key: decode_refs(item) for key, item in value[VALUE_KEY].items()}
        return {key: decode_refs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_refs(item) for item in value]
    return value
