"""Synthetic supply-chain bundles at scale: realistic structure, deterministic per seed.

Structure of a generated bundle (``n`` suppliers):

* suppliers in tiers 0..6 (tier 0 = buyers, deeper tiers larger); ``SUPPLIES`` edges run
  mostly from tier t+1 to tier t, some within a tier and a few backwards, so there are
  cycles; sources and targets are drawn with heavy-tailed (lognormal) weights, so a few
  hubs have very large fan-in and fan-out;
* ``n // 2`` components in bill-of-materials trees of levels 0..5 (level 0 = final
  products, BOM depth up to 5): ``PART_OF`` to a component one level up, ``MAKES`` from a
  supplier of the matching tier, ``USED_BY`` from final products to buyers and from parts
  to the maker of their parent;
* about MEAN_DEGREE edges per node; shares on most edges with every node's incoming
  shares summing to at most 1; confidence 1 on most edges, lower on inferred ones;
* about 3 % of suppliers in Liaoning or Jilin (addresses in several spellings and
  scripts, mostly high-risk sectors), the rest elsewhere in China and in the world.

Extra columns: ``tier_declared`` (suppliers), ``bom_level`` (components) and
``true_province``, the ground truth behind each messy address, for measuring how well
screening recovers it (screening must not read it).

Everything is vectorised with numpy; the same seed gives the same bundle.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from graphkit.model import EDGES_FILE, NODES_FILE
from graphkit.package_data import data_file

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MEAN_DEGREE = 5.0
COMPONENTS_PER_SUPPLIER = 0.5
TIER_GROWTH = 1.6
TIERS = 7
BUYER_FRACTION = 0.01
BOM_LEVEL_P = (0.15, 0.2, 0.22, 0.2, 0.13, 0.1)
REGION_P = {"ne": 0.03, "cn": 0.40, "world": 0.57}
NE_HIGH_RISK = 0.85
SAME_TIER_P, BACKWARD_P = 0.05, 0.02
SECOND_PARENT_P = 0.1
PART_BOUGHT_P = 0.3
NO_SHARE_P, INFERRED_P = 0.15, 0.1
WEIGHT_SIGMA = 1.4
SUPPLIES_ROUNDS = 6
MIN_SUPPLIERS = 20


def generate_bundle(n_suppliers: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic bundle (nodes, edges) with ``n_suppliers`` suppliers and n//2 components."""
    import numpy as np

    if n_suppliers < MIN_SUPPLIERS:
        raise ValueError(f"n_suppliers must be at least {MIN_SUPPLIERS}, got {n_suppliers}")
    rng = np.random.default_rng(seed)
    tables = _tables()
    n_components = int(n_suppliers * COMPONENTS_PER_SUPPLIER)
    tier = _forced_choice(rng, n_suppliers, _tier_probabilities())
    level = _forced_choice(rng, n_components, np.array(BOM_LEVEL_P))
    w_out, w_in = (rng.lognormal(0.0, WEIGHT_SIGMA, n_suppliers) for _ in range(2))
    maker = _pick_in_groups(rng, tier, w_out, np.minimum(level + 1, TIERS - 1))
    component_edges = _component_edges(rng, tier, level, maker, w_in)
    n_nodes = n_suppliers + n_components
    n_supplies = max(int(MEAN_DEGREE * n_nodes) - len(component_edges[0]), n_suppliers)
    supplies = _supplies_edges(rng, tier, w_out, w_in, n_supplies)
    nodes = _nodes(rng, tables, tier, level, maker)
    edges = _edges_frame(rng, nodes["id"].to_numpy(), supplies, component_edges, n_nodes)
    return nodes, edges


def write_generated(out_dir: str | os.PathLike, n_suppliers: int, seed: int) -> tuple[int, int]:
    """Generate a bundle and write nodes.csv/edges.csv into out_dir; returns (nodes, edges)."""
    from graphkit.io.atomic import staged_dir
    from graphkit.io.safe_csv import write_csv

    nodes, edges = generate_bundle(n_suppliers, seed)
    with staged_dir(out_dir) as stage:
        for frame, name in ((nodes, NODES_FILE), (edges, EDGES_FILE)):
            write_csv(frame, stage / name, float_format="%.4g")
    return len(nodes), len(edges)


def _tables() -> dict[str, pd.DataFrame]:
    import pandas as pd

    names = ("places", "streets", "sectors", "names")
    return {
        name: pd.read_csv(data_file("generator", f"{name}.csv"), dtype=str, keep_default_na=False)
        for name in names
    }


def _tier_probabilities() -> np.ndarray:
    import numpy as np

    deeper = TIER_GROWTH ** np.arange(1, TIERS)
    deeper = deeper / deeper.sum() * (1 - BUYER_FRACTION)
    return np.concatenate([[BUYER_FRACTION], deeper])


def _forced_choice(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    """n draws from 0..len(p)-1 with probabilities p, every value present at least once."""
    import numpy as np

    drawn = rng.choice(len(p), size=n, p=p)
    drawn[: len(p)] = np.arange(len(p))
    return rng.permutation(drawn)


def _pick_in_groups(
    rng: np.random.Generator, group: np.ndarray, weight: np.ndarray, wanted: np.ndarray
) -> np.ndarray:
    """For each entry of wanted (a group number), one item of that group, P ∝ weight."""
    import numpy as np

    if len(wanted) == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(group, kind="stable")
    cumulative = np.cumsum(weight[order])
    last = np.cumsum(np.bincount(group, minlength=wanted.max() + 1)) - 1
    first = np.concatenate([[0], last[:-1] + 1])
    low = np.where(first > 0, cumulative[np.maximum(first - 1, 0)], 0.0)
    high = cumulative[last]
    draw = low[wanted] + rng.random(len(wanted)) * (high - low)[wanted]
    position = np.searchsorted(cumulative, draw, side="right")
    return order[np.clip(position, first[wanted], last[wanted])]


def _supplies_edges(
    rng: np.random.Generator, tier: np.ndarray, w_out: np.ndarray, w_in: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n distinct SUPPLIES edges (source, target) between suppliers, mostly one tier up.

    Heavy-tailed weights repeat popular pairs, so draws are topped up until n distinct
    pairs remain (a few rounds, each vectorised).
    """
    import numpy as np

    n_s = len(tier)
    keys = np.empty(0, dtype=np.int64)
    for _ in range(SUPPLIES_ROUNDS):
        missing = n - len(keys)
        if missing <= 0:
            break
        source, target = _draw_supplies(rng, tier, w_out, w_in, int(missing * 1.3) + 10)
        fresh = source[source != target] * n_s + target[source != target]
        keys = np.concatenate([keys, fresh])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    keys = keys[:n]
    source, target = _with_cycles(rng, tier, keys // n_s, keys % n_s)
    return _connect_isolated(rng, tier, w_in, source, target)


def _connect_isolated(
    rng: np.random.Generator,
    tier: np.ndarray,
    w_in: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Give every supplier without a SUPPLIES edge one: it sells to the tier above it.

    Buyers left without a supplier get one from tier 1.
    """
    import numpy as np

    touched = np.bincount(np.concatenate([source, target]), minlength=len(tier)) > 0
    seller = np.flatnonzero(~touched & (tier > 0))
    buyer = np.flatnonzero(~touched & (tier == 0))
    sold_to = _pick_in_groups(rng, tier, w_in, tier[seller] - 1)
    bought_from = _pick_in_groups(rng, tier, w_in, np.ones(len(buyer), dtype=np.int64))
    return (
        np.concatenate([source, seller, bought_from]),
        np.concatenate([target, sold_to, buyer]),
    )


def _draw_supplies(
    rng: np.random.Generator, tier: np.ndarray, w_out: np.ndarray, w_in: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n SUPPLIES draws: source ∝ w_out among non-buyers, target ∝ w_in in the chosen tier."""
    import numpy as np

    not_buyer = (tier > 0).astype(np.int64)
    source = _pick_in_groups(rng, not_buyer, w_out, np.ones(n, dtype=np.int64))
    step = rng.choice([-1, 0, 1], size=n, p=[1 - SAME_TIER_P - BACKWARD_P, SAME_TIER_P, BACKWARD_P])
    target_tier = np.clip(tier[source] + step, 0, TIERS - 1)
    return source, _pick_in_groups(rng, tier, w_in, target_tier)


def _with_cycles(
    rng: np.random.Generator, tier: np.ndarray, source: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Add a few three-supplier trading loops (a→b→c→a) among non-buyers."""
    import numpy as np

    sellers = rng.permutation(np.flatnonzero(tier > 0))
    n_loops = max(1, len(tier) // 2000)
    a, b, c = (sellers[k : 3 * n_loops : 3] for k in range(3))
    return np.concatenate([source, a, b, c]), np.concatenate([target, b, c, a])


def _component_edges(
    rng: np.random.Generator,
    tier: np.ndarray,
    level: np.ndarray,
    maker: np.ndarray,
    w_in: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MAKES, PART_OF and USED_BY edges as (source, target, kind) over global node indices."""
    import numpy as np

    n_s, n_c = len(tier), len(level)
    comp = np.arange(n_c)
    has_parent = level > 0
    child = np.concatenate(
        [comp[has_parent], comp[has_parent & (rng.random(n_c) < SECOND_PARENT_P)]]
    )
    uniform = np.ones(n_c)
    parent = _pick_in_groups(rng, level, uniform, level[child] - 1)
    bought = rng.random(len(child)) < PART_BOUGHT_P
    bought &= maker[parent] != maker[child]
    product = comp[level == 0]
    buyer = _pick_in_groups(rng, (tier > 0).astype(np.int64), w_in, np.zeros(len(product), int))
    sources = [maker, n_s + child, n_s + child[bought], n_s + product]
    targets = [n_s + comp, n_s + parent, maker[parent[bought]], buyer]
    kinds = ["MAKES", "PART_OF", "USED_BY", "USED_BY"]
    kind = np.concatenate([np.full(len(s), k) for s, k in zip(sources, kinds, strict=True)])
    return np.concatenate(sources), np.concatenate(targets), kind


def _edges_frame(
    rng: np.random.Generator,
    ids: np.ndarray,
    supplies: tuple[np.ndarray, np.ndarray],
    component_edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_nodes: int,
) -> pd.DataFrame:
    """Deduplicated edges without self-loops, with shares, confidences and evidence."""
    import numpy as np
    import pandas as pd

    kind_supplies = np.full(len(supplies[0]), "SUPPLIES")
    source = np.concatenate([supplies[0], component_edges[0]])
    target = np.concatenate([supplies[1], component_edges[1]])
    kind = np.concatenate([kind_supplies, component_edges[2]])
    keep = source != target
    _, first = np.unique(source[keep] * n_nodes + target[keep], return_index=True)
    chosen = np.flatnonzero(keep)[np.sort(first)]
    source, target, kind = source[chosen], target[chosen], kind[chosen]
    inferred = rng.random(len(source)) < INFERRED_P
    confidence = np.where(inferred, np.round(rng.uniform(0.4, 0.95, len(source)), 2), 1.0)
    evidence = np.where(inferred, "inferred from import records", "supplier disclosure")
    return pd.DataFrame(
        {
            "source": ids[source],
            "target": ids[target],
            "kind": kind,
            "share": _shares(rng, target, n_nodes),
            "confidence": confidence,
            "item": "",
            "evidence": evidence,
        }
    )


def _shares(rng: np.random.Generator, target: np.ndarray, n_nodes: int) -> np.ndarray:
    """Per-edge shares; each target's mapped fraction is 0.5..0.95.

    For a few targets no input share is known: all their in-edges carry none.
    """
    import numpy as np

    raw = rng.lognormal(0.0, 1.0, len(target))
    total = np.bincount(target, weights=raw, minlength=n_nodes)
    mapped = rng.uniform(0.5, 0.95, n_nodes)
    share = np.floor(raw / total[target] * mapped[target] * 1e4) / 1e4
    unknown = rng.random(n_nodes) < NO_SHARE_P
    return np.where(unknown[target], np.nan, share)


def _nodes(
    rng: np.random.Generator,
    tables: dict[str, pd.DataFrame],
    tier: np.ndarray,
    level: np.ndarray,
    maker: np.ndarray,
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    suppliers = _supplier_nodes(rng, tables, tier)
    components = _component_nodes(tables, suppliers["sector"].to_numpy()[maker], level)
    nodes = pd.concat([suppliers, components], ignore_index=True)
    nodes["exposure"] = np.nan
    order = ["id", "kind", "name", "address", "country", "province", "sector", "hs_code"]
    extra = ["tier_declared", "bom_level", "true_province"]
    return nodes[[*order, "exposure", *extra]].fillna({c: "" for c in [*order, *extra]})


def _supplier_nodes(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], tier: np.ndarray
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    n = len(tier)
    places, sectors = tables["places"], tables["sectors"]
    region_names = np.array(list(REGION_P))
    region = rng.choice(region_names, size=n, p=list(REGION_P.values()))
    region[tier == 0] = "world"
    place = _pick_in_groups(
        rng,
        _codes(places["region"], region_names),
        np.ones(len(places)),
        _codes(region, region_names),
    )
    high = rng.random(n) < np.where(region == "ne", NE_HIGH_RISK, 0.3)
    risk = np.where(high, "high", "low")
    risk_names = np.array(["high", "low"])
    sector = _pick_in_groups(
        rng, _codes(sectors["risk"], risk_names), np.ones(len(sectors)), _codes(risk, risk_names)
    )
    frame = places.iloc[place].reset_index(drop=True)
    return pd.DataFrame(
        {
            "id": _ids("s", n),
            "kind": "supplier",
            "name": _company_names(rng, tables, frame, sectors["name_word"].to_numpy()[sector]),
            "address": _addresses(rng, tables, frame),
            "country": frame["country"],
            "province": np.where(rng.random(n) < 0.5, frame["province"], ""),
            "sector": sectors["sector"].to_numpy()[sector],
            "hs_code": sectors["hs_code"].to_numpy()[sector],
            "tier_declared": tier.astype(str),
            "true_province": frame["province"],
        }
    )


def _component_nodes(
    tables: dict[str, pd.DataFrame], sector: np.ndarray, level: np.ndarray
) -> pd.DataFrame:
    """Components named after what their maker's sector produces."""
    import numpy as np
    import pandas as pd

    sectors = tables["sectors"].set_index("sector")
    n = len(level)
    part = sectors.loc[sector, "part_word"].to_numpy()
    prefix = np.where(level == 0, "final product: ", "")
    code = pd.Series(np.arange(n)).astype(str).str.zfill(6).to_numpy()
    return pd.DataFrame(
        {
            "id": _ids("c", n),
            "kind": "component",
            "name": pd.Series(prefix) + part + " X-" + code,
            "sector": sector,
            "hs_code": sectors.loc[sector, "hs_code"].to_numpy(),
            "bom_level": level.astype(str),
        }
    )


def _codes(values, names: np.ndarray) -> np.ndarray:
    """Position of each value in names."""
    import numpy as np

    return np.searchsorted(np.sort(names), np.asarray(values)).astype(np.int64)


def _ids(prefix: str, n: int) -> np.ndarray:
    import numpy as np
    import pandas as pd

    width = max(6, len(str(n)))
    return (prefix + pd.Series(np.arange(n)).astype(str).str.zfill(width)).to_numpy()


def _company_names(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], place: pd.DataFrame, word: np.ndarray
) -> pd.Series:
    """'Dandong Huaxin Garment Co., Ltd.' style names, the city only for Chinese firms."""
    import numpy as np
    import pandas as pd

    chinese = (place["country"] == "CN").to_numpy()
    pick = rng.integers(0, len(tables["names"]), len(place))
    trade = np.where(chinese, tables["names"]["word"].to_numpy()[pick], "")
    trade = np.where(chinese, trade, tables["names"]["world_word"].to_numpy()[pick])
    city = np.where(chinese, place["city"] + " ", "")
    return pd.Series(city) + trade + " " + word + " " + place["suffix"]


def _addresses(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], place: pd.DataFrame
) -> np.ndarray:
    """Addresses in the messy ways they appear in records (pinyin, characters, caps, phone)."""
    import numpy as np
    import pandas as pd

    n = len(place)
    street = tables["streets"].iloc[rng.integers(0, len(tables["streets"]), n)]
    street = street.reset_index(drop=True)
    number = pd.Series(rng.integers(1, 400, n)).astype(str)
    phone = place["phone"] + "-" + pd.Series(rng.integers(2_000_000, 9_000_000, n)).astype(str)
    old = place["old_name"].where(place["old_name"] != "", place["city"])
    formats = [
        "No. "
        + number
        + " "
        + street["street"]
        + ", "
        + place["city"]
        + ", "
        + place["province"]
        + " "
        + place["postal"],
        number + " " + street["street"] + ", " + place["city"] + " " + place["postal"],
        (place["city"] + " " + street["street"] + " NO " + number).str.upper(),
        place["province_zh"] + place["city_zh"] + street["street_zh"] + number + "号",
        place["city_trad"] + street["street_trad"] + number + "號",
        place["city_spaced"] + ", Tel " + phone,
        number + " " + street["street"] + ", " + old,
    ]
    chinese = (place["country"] == "CN").to_numpy()
    pick = np.where(chinese, rng.integers(0, len(formats), n), 1)
    world = number + " Industrial Road, " + place["postal"] + " " + place["city"]
    formats[1] = formats[1].where(chinese, world)
    return np.choose(pick, [f.to_numpy() for f in formats])
