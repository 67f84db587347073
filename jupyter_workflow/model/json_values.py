"""What the project accepts as a JSON value, at every door: request bodies, files, ``-p``, the API.

JSON as RFC 8259 has it, and no deeper than :data:`MAX_DEPTH`: no ``NaN`` or
``Infinity`` (nor a number such as ``1e999`` that only a float's infinity can hold), no
string with a lone surrogate (it cannot be written as UTF-8), no nesting that would
exhaust the recursion of whatever reads the value next. :func:`load_json` parses text
under these rules; :func:`json_value_problem` checks a value that did not come as text
(an input given to the Python API). Both walk values without recursion, so a hostile
value cannot make them raise anything but their own error.
"""

import json
import math

# Deeper than any workflow document or parameter value needs; far from the ~1,000 frames
# where the standard library's JSON, jsonschema and copy start to fail.
MAX_DEPTH = 64
# Python writes out integers of up to 4,300 digits (sys.get_int_max_str_digits).
MAX_INTEGER_DIGITS = 4000
_TOO_LARGE = 10**MAX_INTEGER_DIGITS


class UnsafeJson(ValueError):
    """Text or a value that is not JSON the project accepts; the message says why and where."""


def _reject_constant(name: str):
    raise UnsafeJson(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJson(f"the number {text[:40]} is too large for a JSON number")
    return value


def load_json(text: str | bytes, what: str = "the JSON text", *, object_pairs_hook=None):
    """``text`` parsed as JSON under the rules of the module doc; :class:`UnsafeJson` if it breaks one.

    ``what`` names the text in messages, e.g. ``"the request body"``. ``object_pairs_hook``
    is :func:`json.loads`'s: it builds each object from its key-value pairs (to see
    duplicate keys, say); it must return a dict.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=object_pairs_hook
        )
    except UnsafeJson as error:
        raise UnsafeJson(f"{what} is not valid JSON: {error}") from None
    except json.JSONDecodeError as error:
        raise UnsafeJson(f"{what} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except UnicodeDecodeError:
        raise UnsafeJson(f"{what} is not UTF-8 text") from None
    except RecursionError:
        raise UnsafeJson(f"{what} is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as error:  # an integer with more digits than Python converts
        raise UnsafeJson(f"{what} is not valid JSON: {error}") from None
    problem = json_value_problem(value)
    if problem:
        raise UnsafeJson(f"{what} is not accepted: {problem}")
    return value


def _where(path: tuple) -> str:
    return "".join(f"[{part!r}]" for part in path) or "the value"


def json_value_problem(value) -> str | None:
    """What makes ``value`` unacceptable as JSON here, in a sentence naming where; None if nothing.

    Accepted: None, booleans, integers of at most :data:`MAX_INTEGER_DIGITS` digits, finite
    floats, strings that are valid Unicode, and lists, tuples and dicts with string keys of
    those, nested at most :data:`MAX_DEPTH` deep.
    """
    stack = [(value, (), 1)]
    while stack:
        item, path, depth = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if abs(item) >= _TOO_LARGE:
                return f"{_where(path)} is an integer of more than {MAX_INTEGER_DIGITS:,} digits"
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{_where(path)} is {item!r}, which is not a JSON number (JSON has no NaN or Infinity)"
            continue
        if isinstance(item, str):
            if not _is_unicode(item):
                return f"{_where(path)} holds a lone surrogate, which is not valid Unicode text"
            continue
        if not isinstance(item, (list, tuple, dict)):
            return f"{_where(path)} is a {type(item).__name__}, which is not a JSON value"
        if depth > MAX_DEPTH:
            return f"{_where(path[:3])}... is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"{_where(path)} has the key {key!r}: JSON object keys are strings"
                if not _is_unicode(key):
                    return f"{_where(path)} has a key with a lone surrogate, which is not valid Unicode text"
                stack.append((child, (*path, key), depth + 1))
        else:
            stack.extend((child, (*path, index), depth + 1) for index, child in enumerate(item))
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
