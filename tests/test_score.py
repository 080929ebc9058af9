import math

import pandas as pd
import pytest

from graphkit.screen.geo import parse_scope, resolve_address
from graphkit.screen.score import SCORE_COLUMNS, screen_nodes
from graphkit.screen.sectors import load_factors

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
    """The score is the address's own confidence (resolved on its own) times the sector's
    factor from the documented table (apparel_ppe 1.0), or from the user's table."""
    confidence = resolve_address("Zhenxing District, Dandong 118000", "CN").confidence
    assert 0.5 < confidence < 1
    row = screen_nodes(nodes()).loc[10]
    assert row["score_basis"] == "screened" and row["in_scope"]
    assert (row["sector"], row["sector_factor"]) == ("apparel_ppe", 1.0)
    assert row["source_score"] == pytest.approx(confidence * 1.0)
    assert "Dandong" in row["geo_evidence"] and "apparel_ppe" in row["score_evidence"]
    custom = screen_nodes(nodes(), factors={**load_factors(), "apparel_ppe": 0.25}).loc[10]
    assert custom["source_score"] == pytest.approx(confidence * 0.25)


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
    assert row["source_score"] == pytest.approx(resolve_address("Hunchun", "CN").confidence * 0.5)


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


def test_liaoning_port_of_lading_is_weaker_evidence_when_the_address_is_silent():

    nodes = pd.DataFrame(
        {
            "id": ["silent", "elsewhere", "agrees"],
            "kind": ["supplier"] * 3,
            "address": [
                "Room 5, Building 2",
                "88 Nanjing Road, Shanghai",
                "Zhenxing District, Dandong",
            ],
            "country": ["", "CN", "CN"],
            "sector": ["apparel"] * 3,
            "port_of_lading": ["DALIAN, CHINA", "DALIAN, CHINA", "Dandong"],
        }
    )
    result = screen_nodes(nodes).set_axis(nodes["id"])
    silent = result.loc["silent"]
    assert silent["in_scope"] and silent["geo_province"] == "Liaoning"
    assert math.isclose(silent["geo_confidence"], 0.6)
    assert "port of lading" in silent["geo_evidence"] and "address silent" in silent["geo_evidence"]
    elsewhere = result.loc["elsewhere"]
    assert not elsewhere["in_scope"] and elsewhere["source_score"] == 0
    assert "disagreed (address wins)" in elsewhere["geo_evidence"]
    agrees = result.loc["agrees"]
    assert agrees["in_scope"] and agrees["geo_confidence"] > 0.6
    assert agrees["geo_evidence"].endswith("agreed")


def _places(rows):
    frame = pd.DataFrame(rows)
    frame["kind"] = "supplier"
    return screen_nodes(frame).set_axis(frame["id"])


def test_liaoning_port_counts_when_the_address_names_only_china():
    result = _places(
        {
            "id": ["china_only", "cn_code"],
            "name": ["Hongda Knitting Co", "Xinyu Garments"],
            "address": ["China", "Room 3, Building 7"],
            "country": ["", "CN"],
            "port_of_lading": ["DALIAN, CHINA", "Yingkou"],
        }
    )
    for node in ("china_only", "cn_code"):
        row = result.loc[node]
        assert row["in_scope"] and row["geo_province"] == "Liaoning"
        assert math.isclose(row["geo_confidence"], 0.6)
        assert "address silent" in row["geo_evidence"]


@pytest.mark.parametrize(
    "port",
    ["NAMPO", "Namp'o, Korea", "Rajin", "CHONGJIN", "All Other North Korea Ports, North Korea"],
)
def test_north_korean_port_of_lading_is_strong_evidence(port):
    row = _places(
        {
            "id": ["x"],
            "name": ["Ocean Star Trading"],
            "address": ["Zhongshan Road 12, Shanghai"],
            "country": ["CN"],
            "port_of_lading": [port],
        }
    ).loc["x"]
    assert row["in_scope"] and row["geo_province"] == "North Korea"
    assert row["geo_confidence"] >= 0.9
    assert "goods left North Korea" in row["geo_evidence"] and "Shanghai" in row["geo_evidence"]


def test_in_scope_city_starting_a_company_name_is_weak_evidence_when_the_address_is_silent():
    result = _places(
        {
            "id": ["silent", "placed", "street"],
            "name": [
                "DANDONG XINGHAI TRADING CO",
                "DANDONG XINGHAI TRADING CO",
                "Dalian Road Fabrics",
            ],
            "address": ["", "88 Nanjing Road, Shanghai", ""],
            "country": ["CN", "CN", "CN"],
        }
    )
    silent = result.loc["silent"]
    assert silent["in_scope"] and silent["geo_province"] == "Liaoning"
    assert silent["geo_confidence"] < 0.6
    assert "company name starts with 'DANDONG'" in silent["geo_evidence"]
    assert "weak" in silent["geo_evidence"]
    assert not result.loc["placed", "in_scope"]
    assert not result.loc["street", "in_scope"]


def test_ambiguous_reading_is_a_column():
    result = _places({"id": ["jian", "tonghua"], "address": ["Ji'an", "Ji'an, Tonghua"]})
    assert result.loc["jian", "geo_ambiguous"] and not result.loc["tonghua", "geo_ambiguous"]
    assert "AMBIGUOUS" in result.loc["jian", "geo_evidence"]
