"""The bundle digest: one SHA-256 over both tables, whatever the file format or row order.

What is hashed, in this order (version 2 of the encoding; integers are 8-byte
little-endian): the tag ``graphkit-bundle-v2``; then for the nodes table (rows ordered
by ``id``) and the edges table (rows ordered by ``source``, then ``target``; text compared
by code point, ties kept in table order): the table's name, its row count and, column by
column in the order of their names, the column's name, a type mark and its cells. Number
columns (float) are marked ``f`` and hashed as IEEE-754 doubles (every NaN as one NaN);
every other column is marked ``s`` and hashed as the UTF-8 text of its cells ("" for
missing) as Arrow lays it out: the cells' end offsets, then the bytes. Text and numbers are
what validation makes of a bundle, so a folder, a workbook and a JSON file with the same
content give the same digest.
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING, Any

from graphkit.columns import as_arrow, positions_in

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

TAG = b"graphkit-bundle-v2"


def bundle_digest(nodes: pd.DataFrame, edges: pd.DataFrame) -> str:
    """The SHA-256 (hex) of the two tables in the encoding the module describes."""
    hasher = hashlib.sha256(TAG)
    node_order, sorted_ids = _order_by_id(nodes["id"])
    _hash_table(hasher, "nodes", nodes, node_order)
    _hash_table(hasher, "edges", edges, _order_by_ends(edges, sorted_ids))
    return hasher.hexdigest()


def _order_by_id(ids: pd.Series) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Row order by id (Arrow's sort is stable) and the ids in that order."""
    import pyarrow.compute as pc

    array = as_arrow(ids)
    order = pc.sort_indices(array).to_numpy()
    return order, array.take(order)


def _order_by_ends(edges: pd.DataFrame, sorted_ids: pa.ChunkedArray) -> np.ndarray:
    """Row order by (source, target), from each end's rank among the sorted ids.

    Ranks are integers, so one stable sort of 64-bit keys orders millions of edges where a
    sort of the text pairs would take minutes.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ends = [edges["source"], edges["target"]]
    universe = sorted_ids
    ranks = positions_in(ends, universe)
    if any(rank.min(initial=0) < 0 for rank in ranks):  # ends that name no node
        every = pa.chunked_array(
            [*sorted_ids.chunks, *(chunk for end in ends for chunk in as_arrow(end).chunks)]
        )
        distinct = pc.unique(every)
        universe = distinct.take(pc.sort_indices(distinct))
        ranks = positions_in(ends, universe)
    keys = ranks[0].astype(np.int64) * len(universe) + ranks[1]
    return np.argsort(keys, kind="stable")


def _hash_table(hasher: Any, name: str, frame: pd.DataFrame, order: np.ndarray) -> None:
    _hash_text(hasher, name)
    hasher.update(struct.pack("<q", len(frame)))
    for column in sorted(frame.columns, key=str):
        _hash_text(hasher, str(column))
        values = frame[column]
        if values.dtype.kind == "f":
            hasher.update(b"f")
            _hash_numbers(hasher, values.to_numpy()[order])
        else:
            hasher.update(b"s")
            _hash_cells(hasher, as_arrow(values).combine_chunks().take(order))


def _hash_text(hasher: Any, text: str) -> None:
    data = text.encode("utf-8")
    hasher.update(struct.pack("<q", len(data)) + data)


def _hash_numbers(hasher: Any, numbers: np.ndarray) -> None:
    import numpy as np

    numbers = np.where(np.isnan(numbers), np.nan, numbers).astype("<f8")
    hasher.update(numbers.tobytes())


def _hash_cells(hasher: Any, cells: pa.Array) -> None:
    """End offsets (counted from 0) and bytes of the cells."""
    import numpy as np
    import pyarrow as pa

    cells = cells.fill_null("").cast(pa.large_string())
    _, offsets, data = cells.buffers()
    ends = np.frombuffer(offsets, dtype="<i8", count=len(cells) + 1, offset=cells.offset * 8)
    start, stop = int(ends[0]), int(ends[-1])
    hasher.update((ends[1:] - start).astype("<i8").tobytes())
    if data is not None:
        hasher.update(memoryview(data)[start:stop])
