"""Source scores of a bundle's nodes, from screening: what the engine starts from."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.model import Bundle


def source_scores_for(bundle: Bundle) -> pd.Series:
    """Source scores from screening (an explicit ``exposure`` wins), by node id."""
    return source_table_for(bundle)["source_score"]


def source_table_for(bundle: Bundle) -> pd.DataFrame:
    """Per node id: ``source_score`` and the ``evidence`` behind it, from screening."""
    import pandas as pd

    from graphkit.screen.score import screen_nodes, source_evidence

    screened = screen_nodes(bundle.nodes).set_axis(bundle.nodes["id"].to_numpy())
    return pd.DataFrame(
        {"source_score": screened["source_score"], "evidence": source_evidence(screened)}
    )
