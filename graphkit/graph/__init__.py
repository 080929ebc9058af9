"""The indexed graph and the graph rules every engine uses (embedded, Spark, `graphkit info`).

- ``index``: a bundle as integer arrays (``IndexedGraph``, ``index_graph``);
- ``rules``: share imputation, the bill-of-materials rule, buyer-facing nodes, the unmapped
  remainder, the table of modes and the exposure columns;
- ``loops``: strongly connected components and the topological schedule of them.
"""

from graphkit.graph.index import IndexedGraph, buyer_facing, index_graph, score_array
from graphkit.graph.loops import LoopRounds, loop_rounds, on_loops
from graphkit.graph.rules import AGGREGATE, EXPOSURE_COLUMNS, MODES, WEIGHT, buyer_facing_mask

__all__ = [
    "AGGREGATE",
    "EXPOSURE_COLUMNS",
    "MODES",
    "WEIGHT",
    "IndexedGraph",
    "LoopRounds",
    "buyer_facing",
    "buyer_facing_mask",
    "index_graph",
    "loop_rounds",
    "on_loops",
    "score_array",
]
