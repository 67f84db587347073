"""Shared by the reconciliation notebooks: read and normalise a table, match two tables.

The notebooks run with their own folder as working directory, so ``import recon_utils``
finds this module.
"""

import re
import unicodedata

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

# Legal forms and other words written several ways, mapped to one spelling.
CANONICAL_WORDS = {
    "limited": "ltd",
    "incorporated": "inc",
    "corporation": "corp",
    "company": "co",
    "brothers": "bros",
}


def normalise_name(text) -> str:
    """Casefolded, without punctuation, single-spaced, with canonical legal forms."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().replace("&", " and ")
    text = re.sub(r"[.'’`]", "", text)  # "Ltd." → "ltd", "O'Reilly" → "oreilly"
    text = re.sub(r"[^\w\s]|_", " ", text)  # other punctuation separates words
    return " ".join(CANONICAL_WORDS.get(word, word) for word in text.split())


def parse_amount(text) -> float:
    """A float from text such as "$1,250.00", "€ 845,20", "12.000,00" or "(210.00)".

    The last "," or "." is the decimal separator when one or two digits follow it;
    every other "," or "." separates thousands.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    raw = str(text).strip()
    negative = raw.startswith("-") or raw.endswith("-") or (raw.startswith("(") and raw.endswith(")"))
    digits = re.sub(r"[^\d,.]", "", raw)
    last = max(digits.rfind(","), digits.rfind("."))
    if last >= 0 and len(digits) - last - 1 in (1, 2):
        whole, fraction = digits[:last], digits[last + 1 :]
    else:
        whole, fraction = digits, ""
    whole = re.sub(r"[,.]", "", whole)
    if not (whole or fraction):
        raise ValueError(f"not an amount: {text!r}")
    value = float(f"{whole or 0}.{fraction or 0}")
    return -value if negative else value


def normalise_table(frame: pd.DataFrame, name_column="counterparty", amount_column="amount", source="table"):
    """A copy with columns ``name`` (as given), ``name_key`` (normalised) and ``amount`` (float)."""
    missing = [column for column in (name_column, amount_column) if column not in frame.columns]
    if missing:
        raise KeyError(f"{source}: no column {', '.join(map(repr, missing))}; its columns are {list(frame.columns)}")
    frame = frame.rename(columns={name_column: "name", amount_column: "amount"})
    frame = frame.apply(lambda column: column.str.strip() if pd.api.types.is_string_dtype(column) else column)
    amounts = []
    for row, text in enumerate(frame["amount"], start=1):
        try:
            amounts.append(parse_amount(text))
        except ValueError as error:
            raise ValueError(f"{source}, row {row}: {error}") from None
    frame["amount"] = amounts
    frame["name_key"] = frame["name"].map(normalise_name)
    return frame.reset_index(drop=True)


def read_table(path, name_column="counterparty", amount_column="amount") -> pd.DataFrame:
    """Read a CSV file (every column as text) and normalise it."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return normalise_table(frame, name_column, amount_column, source=str(path))


def as_table(value, **columns) -> pd.DataFrame:
    """A normalised table from an upstream DataFrame or a CSV path."""
    if isinstance(value, pd.DataFrame):
        return value if "name_key" in value.columns else normalise_table(value, **columns)
    return read_table(value, **columns)


def match_tables(left, right, threshold=0.9, tolerance=0.01):
    """Pair rows whose amounts agree within ``tolerance`` and whose names score at least ``threshold``.

    A name score (0–1) is the better of rapidfuzz's ``token_sort_ratio`` (word order does
    not matter) and ``ratio`` with spaces removed ("World Wide" = "Worldwide"). The
    best-scoring pairs are taken first and every row is used at most once. Returns the
    DataFrames ``(matched, unmatched_left, unmatched_right)``; ``matched`` has the left
    row's columns prefixed ``left_``, the right row's prefixed ``right_``, and ``score``.
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"the threshold is a score between 0 and 1, got {threshold!r}")
    names_left, names_right = left["name_key"].tolist(), right["name_key"].tolist()
    scores = np.maximum(
        process.cdist(names_left, names_right, scorer=fuzz.token_sort_ratio),
        process.cdist(
            [name.replace(" ", "") for name in names_left],
            [name.replace(" ", "") for name in names_right],
            scorer=fuzz.ratio,
        ),
    ).reshape(len(left), len(right)) / 100
    gap = np.abs(left["amount"].to_numpy(float)[:, None] - right["amount"].to_numpy(float)[None, :])
    eligible = (gap <= tolerance + 1e-9) & (scores >= threshold - 1e-9)
    candidates = sorted(zip(*np.nonzero(eligible)), key=lambda pair: (-scores[pair], pair))
    pairs, used_left, used_right = [], set(), set()
    for i, j in candidates:
        if i not in used_left and j not in used_right:
            pairs.append((i, j))
            used_left.add(i)
            used_right.add(j)
    pairs.sort()
    rows_left = [i for i, _ in pairs]
    rows_right = [j for _, j in pairs]
    matched = pd.concat(
        [
            left.iloc[rows_left].reset_index(drop=True).add_prefix("left_"),
            right.iloc[rows_right].reset_index(drop=True).add_prefix("right_"),
        ],
        axis=1,
    )
    matched["score"] = [round(float(scores[i, j]), 3) for i, j in pairs]
    unmatched_left = left.iloc[sorted(set(range(len(left))) - used_left)].reset_index(drop=True)
    unmatched_right = right.iloc[sorted(set(range(len(right))) - used_right)].reset_index(drop=True)
    return matched, unmatched_left, unmatched_right
