"""jsonschema for the model: its validators, imported without a grammar nobody asked for.

When rfc3987-syntax is installed (Jupyter Server pulls it in), importing jsonschema
imports it to check the "iri" formats, and that builds an IRI grammar: about 1.5 s of
every process that imports jsonschema. :func:`import_jsonschema` imports jsonschema with
rfc3987-syntax hidden for the length of that import only, and the format checker of
input values checks "iri" and "iri-reference" as jsonschema would, importing
rfc3987-syntax the first time a value is checked against one of them.

The engine imports jsonschema too (nbclient, through nbformat): ``jupyter_workflow.engine``
calls :func:`import_jsonschema` before it loads nbclient.
"""

import importlib.util
import sys
from functools import cache

IRI_FORMATS = {"iri": "iri", "iri-reference": "iri_reference"}  # format → rfc3987-syntax's rule


def import_jsonschema():
    """The jsonschema module, imported without building rfc3987-syntax's grammar."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import jsonschema  # the cost, if any, is paid already

        return jsonschema
    sys.modules["rfc3987_syntax"] = None  # meanwhile, importing it raises ImportError
    try:
        import jsonschema
    finally:
        sys.modules.pop("rfc3987_syntax", None)
    return jsonschema


def schema_validator(schema: dict):
    """A Draft 2020-12 validator of ``schema`` that leaves formats unchecked."""
    return import_jsonschema().Draft202012Validator(schema)


def value_validator(schema: dict):
    """A Draft 2020-12 validator of ``schema`` that checks every format jsonschema knows."""
    return import_jsonschema().Draft202012Validator(schema, format_checker=input_format_checker())


@cache
def input_format_checker():
    """jsonschema's checker of every format it can check here, "iri" ones included."""
    checker = import_jsonschema().FormatChecker()
    if importlib.util.find_spec("rfc3987_syntax") is not None:
        for name, rule in IRI_FORMATS.items():
            if name not in checker.checkers:  # left out by import_jsonschema
                checker.checks(name, raises=ValueError)(_iri_check(rule))
    return checker


def _iri_check(rule: str):
    """A check of strings by rfc3987-syntax's ``rule``, importing rfc3987-syntax when first called."""

    def is_valid(instance) -> bool:
        if not isinstance(instance, str):
            return True
        from rfc3987_syntax import is_valid_syntax

        return is_valid_syntax(rule, instance)

    return is_valid
