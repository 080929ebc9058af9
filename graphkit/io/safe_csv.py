"""CSV cells that spreadsheets cannot execute (formula injection), reversibly for bundles."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: a cell starting with one of these is run as a formula by Excel/LibreOffice/Sheets
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: a cell ``neutralise_formula`` escaped (as a regex pattern, also used by Spark's reader)
ESCAPED_FORMULA = r"^'(?='*[=+\-@\t\r])"
_ESCAPED = re.compile(ESCAPED_FORMULA)
_NEEDS_ESCAPE = re.compile(r"^'*[=+\-@\t\r]")


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Reversible: text that already looks escaped gets one more apostrophe, and
    ``restore_formula`` strips exactly one, so bundles survive a write/read round trip.
    """
    if isinstance(value, str) and _NEEDS_ESCAPE.match(value):
        return "'" + value
    return value


def restore_formula(value: object) -> object:
    """Undo ``neutralise_formula`` on a cell read back from a bundle CSV."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised; numbers as they are."""
    text = frame.select_dtypes(include=["object", "string"]).columns
    return frame.assign(**{column: frame[column].map(neutralise_formula) for column in text})
