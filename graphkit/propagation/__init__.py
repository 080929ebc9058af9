"""The embedded engine (numpy/scipy): exposure flows from source nodes along the flow of goods.

- ``engine``: ``propagate``, the entry point: every mode, tiers, contributions, priors;
- ``modes``: the three modes walked in topological order of loops, and the loop solvers;
- ``tiers``: distance from the nearest source;
- ``contributions``: each source's part of each target's value;
- ``priors``: hidden tiers (priors, expected exposure, where to map next).

The graph itself and the rules every engine shares are in ``graphkit.graph``.
"""

from graphkit.propagation.contributions import per_source
from graphkit.propagation.engine import Exposure, propagate, score_modes
from graphkit.propagation.modes import SCORERS, path_scores, reach_scores, share_scores
from graphkit.propagation.priors import map_next, read_priors
from graphkit.propagation.tiers import tier_distance

__all__ = [
    "SCORERS",
    "Exposure",
    "map_next",
    "path_scores",
    "per_source",
    "propagate",
    "reach_scores",
    "read_priors",
    "score_modes",
    "share_scores",
    "tier_distance",
]
