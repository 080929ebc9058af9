import math

import pandas as pd

from graphkit.screen.geo import parse_scope
from graphkit.screen.score import SCORE_COLUMNS, screen_nodes

NAN = math.nan


def nodes():
    return pd.DataFrame(
        {
            "id": ["dandong", "shanghai", "explicit", "unknown_sector", "component", "hlj"],
            "kind": ["supplier"] * 4 + ["component", "supplier"],
            "name": ["Dandong Garments", "Dalian Road Trading", "X", "Y", "PCB", "Harbin Fish"],
            "address": [
                "Zhenxing District, Dandong 118000",
                "Dalian Road, Shanghai",
                "",
                "Hunchun",
                "",
                "Harbin",
            ],
            "country": ["CN", "CN", "", "CN", "", "CN"],
            "province": ["", "", "", "", "", ""],
            "sector": ["", "", "", "", "", ""],
            "hs_code": ["6110", "6110", "", "", "8534", "0306"],
            "exposure": [NAN, NAN, 0.7, NAN, NAN, NAN],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def test_columns_and_index_follow_the_input():
    result = screen_nodes(nodes())
    assert list(result.columns) == list(SCORE_COLUMNS)
    assert list(result.index) == [10, 11, 12, 13, 14, 15]
    assert result["source_score"].between(0, 1).all()


def test_in_scope_node_scores_confidence_times_sector_factor():
    row = screen_nodes(nodes()).loc[10]
    assert row["score_basis"] == "screened" and row["in_scope"]
    assert row["source_score"] == row["geo_confidence"] * row["sector_factor"]
    assert "Dandong" in row["geo_evidence"] and "apparel_ppe" in row["score_evidence"]


def test_out_of_scope_node_scores_zero_with_the_reason():
    row = screen_nodes(nodes()).loc[11]
    assert (row["source_score"], row["score_basis"], row["geo_province"]) == (
        0.0,
        "none",
        "Shanghai",
    )
    assert "not in scope" in row["score_evidence"]


def test_explicit_exposure_wins():
    row = screen_nodes(nodes()).loc[12]
    assert (row["source_score"], row["score_basis"]) == (0.7, "explicit")


def test_in_scope_unknown_sector_counts_at_the_default():
    row = screen_nodes(nodes()).loc[13]
    assert row["sector"] == "unknown" and row["sector_factor"] == 0.5
    assert row["source_score"] == row["geo_confidence"] * 0.5 > 0


def test_province_column_is_a_signal():
    frame = nodes()
    frame.loc[14, "province"] = "Liaoning"
    row = screen_nodes(frame).loc[14]
    assert row["in_scope"] and row["sector"] == "electronics" and row["source_score"] > 0


def test_scope_and_factors_are_parameters():
    scoped = screen_nodes(nodes(), scope=parse_scope("heilongjiang"))
    assert scoped.loc[15, "in_scope"] and not scoped.loc[10, "in_scope"]
    halved = screen_nodes(nodes(), factors={**_defaults(), "apparel_ppe": 0.5})
    assert halved.loc[10, "sector_factor"] == 0.5


def _defaults():
    from graphkit.screen.sectors import load_factors

    return load_factors()
