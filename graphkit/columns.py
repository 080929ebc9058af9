"""Column helpers for large tables: text columns as Arrow arrays, codes of distinct values.

Used where a per-row Python loop would not finish at a million rows: validation,
screening (each distinct address once) and the bundle digest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa


def as_arrow(values: pd.Series) -> pa.ChunkedArray:
    """A text column as an Arrow array; no copy where pandas holds it in Arrow already."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(values.array, pd.arrays.ArrowStringArray):
        return values.array.__arrow_array__()  # the Arrow protocol: pandas' own chunks
    text = values.fillna("").astype(str).to_numpy(dtype=object)
    return pa.chunked_array([pa.array(text, type=pa.large_string())])


def distinct(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Per row the code of its value, numbered in order of first appearance, and the values."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(as_arrow(values))
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], type=pa.large_string())
    codes = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
    return np.concatenate(codes).astype(np.int64), encoded.chunk(0).dictionary


def first_positions(codes: np.ndarray) -> np.ndarray:
    """Position of the first row of each code, for codes numbered in order of first appearance."""
    import numpy as np

    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(codes)
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    new[1:] = seen[1:] > seen[:-1]
    return np.flatnonzero(new)


def first_equal(keys: np.ndarray) -> np.ndarray:
    """Per row the position of the first row with an equal key (a stable sort, no hashing)."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = np.empty(len(keys), dtype=np.int64)
    first[order] = np.repeat(order[starts], np.diff(np.r_[starts, len(keys)]))
    return first


def positions_in(columns: list[pd.Series], keys: pa.Array) -> list[np.ndarray]:
    """Per column, per row the position of its value in ``keys`` (first if repeated), or -1.

    The columns are looked up side by side (Arrow releases the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.compute as pc

    def lookup(values: pd.Series) -> np.ndarray:
        found = pc.index_in(as_arrow(values), value_set=keys).fill_null(-1)
        return found.to_numpy()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lookup, columns))


def row_codes(columns: list[pd.Series]) -> np.ndarray:
    """Per row the code of its combination of values, numbered in order of first appearance."""
    import numpy as np
    import pandas as pd

    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        if isinstance(column.array, pd.arrays.ArrowStringArray):
            codes, values = distinct(column)
        else:  # numbers, flags: pandas' own hash tables (NaN is a value of its own)
            codes, values = pd.factorize(column, use_na_sentinel=False)
        combined, _ = pd.factorize(combined * len(values) + codes)
    return combined
