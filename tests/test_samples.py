"""Sample bundles are valid, realistic in size, and expected.json follows from DESIGN.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bundle_rules import (
    bom_depth,
    buyer_facing,
    is_valid_path,
    numeric,
    reached,
    read_csv_bundle,
    rule_violations,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_graphs"
NAMES = ["apparel_ppe", "electronics_machinery", "seafood_ready_meals", "it_services"]


@pytest.fixture(params=NAMES)
def sample(request):
    folder = SAMPLES / request.param
    nodes, edges = read_csv_bundle(folder)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return request.param, nodes, edges, expected


def test_every_sample_is_present_with_readme():
    for name in NAMES:
        for file in ("nodes.csv", "edges.csv", "expected.json", "README.md"):
            assert (SAMPLES / name / file).is_file(), f"{name}/{file}"


def test_size_is_realistic(sample):
    _, nodes, _, _ = sample
    assert 40 <= len(nodes) <= 200


def test_follows_the_data_model(sample):
    _, nodes, edges, _ = sample
    assert rule_violations(nodes, edges) == []


def test_keeps_extra_columns_and_real_countries(sample):
    _, nodes, _, _ = sample
    assert {"tier_declared", "audit_status"} <= set(nodes.columns)
    suppliers = nodes[nodes["kind"] == "supplier"]
    assert suppliers["country"].str.fullmatch(r"[A-Z]{2}").all()


def test_exposure_left_to_screening_except_one_override(sample):
    _, nodes, _, expected = sample
    overrides = set(nodes.loc[nodes["exposure"] != "", "id"])
    assert len(overrides) <= 1
    assert overrides == set(expected.get("override_sources", []))
    assert numeric(nodes["exposure"]).dropna().between(0, 1).all()


def test_some_links_are_inferred_and_all_have_evidence(sample):
    _, _, edges, _ = sample
    assert (edges["evidence"] != "").all()
    assert (numeric(edges["confidence"]) < 1).any()


def test_expected_ids_exist_and_products_are_buyer_facing(sample):
    _, nodes, edges, expected = sample
    ids = set(nodes["id"])
    listed = expected["flagged_sources"] + expected["decoys"] + expected.get("override_sources", [])
    listed += expected["exposed_products"] + expected["clean_products"]
    listed += [node for path in expected["key_paths"] for node in path]
    assert set(listed) <= ids
    facing = buyer_facing(nodes, edges)
    products = expected["exposed_products"] + expected["clean_products"]
    assert set(products) <= facing
    assert set(nodes.set_index("id").loc[products, "kind"]) == {"component"}
    assert set(expected["decoy_notes"]) == set(expected["decoys"])
    assert not set(expected["decoys"]) & set(expected["flagged_sources"])


def test_expected_products_follow_from_reach_with_the_bom_rule(sample):
    """Exposed products are reached from the sources, clean ones not, even from low-risk nodes."""
    _, _, edges, expected = sample
    sources = set(expected["flagged_sources"]) | set(expected.get("override_sources", []))
    exposed = reached(edges, sources)
    assert set(expected["exposed_products"]) <= exposed
    assert set(expected.get("exposed_buyers", [])) <= exposed
    anything_scored = reached(edges, sources | set(expected.get("low_risk_in_scope", [])))
    assert not set(expected["clean_products"]) & anything_scored


def test_clean_products_would_be_exposed_without_the_bom_rule(sample):
    """At least one clean product is made by an exposed company: the BOM rule keeps it clean."""
    _, _, edges, expected = sample
    sources = set(expected["flagged_sources"]) | set(expected.get("override_sources", []))
    exposed = reached(edges, sources)
    makers = edges[(edges["kind"] == "MAKES") & edges["target"].isin(expected["clean_products"])]
    assert makers["source"].isin(exposed).any()


def test_key_paths_run_from_a_source_to_an_exposed_product(sample):
    _, _, edges, expected = sample
    sources = set(expected["flagged_sources"]) | set(expected.get("override_sources", []))
    ends = set(expected["exposed_products"]) | set(expected.get("exposed_buyers", []))
    assert {path[-1] for path in expected["key_paths"]} >= set(expected["exposed_products"])
    for path in expected["key_paths"]:
        assert path[0] in sources and path[-1] in ends
        assert is_valid_path(edges, path), path


def test_electronics_has_a_deep_bill_of_materials():
    _, edges = read_csv_bundle(SAMPLES / "electronics_machinery")
    assert bom_depth(edges) >= 4
