"""Hidden tiers: priors for unmapped inputs, expected exposure, and where to map next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.errors import InvalidInput, Problem, UnknownName
from graphkit.graph.index import index_graph, score_array
from graphkit.graph.rules import buyer_facing_mask
from graphkit.propagation.contributions import per_source

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.graph.index import IndexedGraph
    from graphkit.model import Bundle
    from graphkit.propagation.engine import Exposure


def read_priors(priors: pd.DataFrame | str | Any) -> pd.DataFrame:
    """A priors table (country, sector, expected_exposure; '*' = any), from a frame or CSV;
    InvalidInput naming the file, row and column of what is wrong."""
    import pandas as pd

    if isinstance(priors, pd.DataFrame):
        table, label = priors, "priors table"
    else:
        table, label = _read_priors_csv(priors), str(priors)
    missing = {"country", "sector", "expected_exposure"} - set(table.columns)
    if missing:
        message = f"priors table lacks column(s): {', '.join(sorted(missing))}"
        raise InvalidInput([Problem(label, 1, None, message)])
    value = pd.to_numeric(table["expected_exposure"], errors="coerce")
    if value.isna().any() or not value.between(0, 1).all():
        row = int(np.flatnonzero(~value.between(0, 1).to_numpy())[0]) + 2
        message = "expected_exposure must be a number in 0..1"
        raise InvalidInput([Problem(label, row, "expected_exposure", message)])
    return pd.DataFrame(
        {
            "country": table["country"].fillna("*").astype(str).str.strip().str.upper(),
            "sector": table["sector"].fillna("*").astype(str).str.strip().str.lower(),
            "expected_exposure": value.astype(float),
        }
    )


def _read_priors_csv(path: str | Any) -> pd.DataFrame:
    """The priors CSV (lines starting with '#' are comments) as read by pandas."""
    import io

    import pandas as pd

    from graphkit.io.encodings import read_utf8

    text = read_utf8(path, "priors CSV file")
    try:
        return pd.read_csv(io.StringIO(text), comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = f"cannot parse CSV: {exc}".replace("\n", " ")
        raise InvalidInput([Problem(str(path), None, None, message)]) from None


def prior_for_nodes(bundle: Bundle, priors: pd.DataFrame) -> pd.Series:
    """Each node's prior: the most specific match (country+sector, country, sector, '*')."""
    import pandas as pd

    nodes = pd.DataFrame(
        {
            "country": bundle.nodes["country"].fillna("").astype(str).str.strip().str.upper(),
            "sector": bundle.nodes["sector"].fillna("").astype(str).str.strip().str.lower(),
        }
    )
    table = priors.drop_duplicates(["country", "sector"], keep="last")
    result = pd.Series(np.nan, index=nodes.index)
    for by_country, by_sector in ((True, True), (True, False), (False, True), (False, False)):
        keys = nodes.assign(
            country=nodes["country"] if by_country else "*",
            sector=nodes["sector"] if by_sector else "*",
        )
        found = keys.merge(table, on=["country", "sector"], how="left")["expected_exposure"]
        result = result.fillna(found.set_axis(nodes.index))
    return result.fillna(0.0).set_axis(bundle.nodes["id"].to_numpy())


def expected_scores(graph: IndexedGraph, s: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Source terms with hidden tiers: the unmapped remainder is exposed if own labour or
    hidden inputs are, 1 - (1 - s)(1 - prior), on nodes with an unmapped remainder."""
    return np.where(graph.unmapped > 0, 1.0 - (1.0 - s) * (1.0 - prior), s)


def map_next(
    bundle: Bundle,
    exposure: Exposure,
    priors: pd.DataFrame | str,
    target: str | None = None,
) -> pd.DataFrame:
    """Rank nodes by how much their unmapped inputs (priced by the priors) could change the
    target's exposure (default: the most affected buyer-facing node, per node).

    impact_share: exact increase of the target's share-mode exposure from this node's hidden
    tier; impact_reach: the target's reach if this hidden tier were the only source.
    """
    import pandas as pd

    graph = index_graph(bundle)
    s = score_array(graph, exposure.table["source_score"])
    prior = prior_for_nodes(bundle, read_priors(priors)).to_numpy(float)
    targets = _targets(graph, target)
    hidden = np.where(graph.unmapped > 0, expected_scores(graph, s, prior) - s, 0.0)
    no_own = np.zeros(graph.n)
    share = per_source(graph, "share", graph.unmapped * hidden, no_own, targets)
    reach = per_source(graph, "reach", hidden, no_own, targets)
    impact = pd.concat(
        [_impacts(graph, share, "impact_share"), _impacts(graph, reach, "impact_reach")], axis=1
    )
    ranked = impact.sort_values(["impact_share", "impact_reach"], ascending=False)
    positions = graph.ids.get_indexer(ranked.index)
    return pd.DataFrame(
        {
            "supplier": ranked.index,
            "name": exposure.table["name"].to_numpy()[positions],
            "unmapped": graph.unmapped[positions],
            "prior": prior[positions],
            "impact_share": ranked["impact_share"].fillna(0.0).to_numpy(),
            "impact_reach": ranked["impact_reach"].fillna(0.0).to_numpy(),
            "target": ranked["target"].to_numpy(),
        }
    ).reset_index(drop=True)


def _targets(graph: IndexedGraph, target: str | None) -> np.ndarray:
    if target is None:
        return np.flatnonzero(buyer_facing_mask(graph))
    position = graph.ids.get_indexer([target])[0]
    if position < 0:
        raise UnknownName(f"node {target!r} is not in the bundle")
    return np.array([position])


def _impacts(graph: IndexedGraph, parts, column: str) -> pd.DataFrame:
    """Per source node: its largest amount over the targets, and that target."""
    import pandas as pd

    frame = pd.DataFrame(
        {"source": graph.ids[parts.source], "target": graph.ids[parts.target], column: parts.amount}
    )
    best = frame.sort_values(column, ascending=False).drop_duplicates("source")
    best = best.set_index("source")
    return best if column == "impact_share" else best[[column]]
