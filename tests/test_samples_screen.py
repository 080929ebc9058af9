"""Screening the sample bundles flags exactly the nodes their READMEs name, and no decoy."""

import json
from pathlib import Path

import pytest

from graphkit.io import read_bundle
from graphkit.screen.score import screen_nodes

SAMPLES = sorted(
    p for p in (Path(__file__).parent.parent / "sample_graphs").iterdir() if p.is_dir()
)


@pytest.mark.parametrize("folder", SAMPLES, ids=lambda p: p.name)
def test_screen_flags_exactly_the_expected_sources(folder):
    expected = json.loads((folder / "expected.json").read_text())
    bundle = read_bundle(folder)
    screening = screen_nodes(bundle.nodes).set_axis(bundle.nodes["id"].to_numpy())
    flagged = set(screening.index[screening["flagged"]])
    assert flagged == set(expected["flagged_sources"]) | set(expected.get("override_sources", []))
    assert not flagged & set(expected["decoys"])
    for node in expected["flagged_sources"]:
        assert screening.at[node, "score_basis"] == "screened"
        assert screening.at[node, "source_score"] > 0.5
        assert screening.at[node, "geo_evidence"], node
    scored = set(screening.index[screening["source_score"] > 0])
    allowed_low = set(expected.get("low_risk_in_scope", []))
    assert scored - flagged <= allowed_low
    assert (screening.loc[list(scored - flagged), "source_score"] < 0.5).all()
