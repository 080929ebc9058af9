import pytest

from graphkit.errors import InvalidInput
from graphkit.screen.sectors import classify_sector, load_factors, normalise_hs


@pytest.mark.parametrize(
    "code, digits",
    [("30617", "030617"), ("0306.17", "030617"), ("8534.00.90", "85340090"), ("3", "03")],
)
def test_hs_codes_are_normalised(code, digits):
    assert normalise_hs(code) == digits


@pytest.mark.parametrize(
    "code, sector",
    [
        ("30617", "seafood"),
        ("160520", "seafood"),
        ("6110.20", "apparel_ppe"),
        ("620193", "apparel_ppe"),
        ("6307.90", "apparel_ppe"),
        ("640399", "apparel_ppe"),
        ("392620", "apparel_ppe"),
        ("4015.19", "apparel_ppe"),
        ("8534.00", "electronics"),
        ("854231", "electronics"),
        ("8473.30", "electronics"),
        ("8471", "machinery"),
        ("9403", "other"),
    ],
)
def test_hs_chapters_and_headings(code, sector):
    assert classify_sector(hs_code=code).sector == sector


def test_longest_hs_prefix_wins_and_is_named():
    match = classify_sector(hs_code="8473.30")
    assert match.rule == "HS 8473" and match.factor == 1.0


@pytest.mark.parametrize(
    "text, sector",
    [
        ("Software development and IT outsourcing", "it_services"),
        ("freelance app development", "it_services"),
        ("PCB assembly", "electronics"),
        ("Frozen prawns, peeled", "seafood"),
        ("冷冻虾仁", "seafood"),
        ("男士羽绒服装", "apparel_ppe"),
        ("disposable face masks", "apparel_ppe"),
        ("office furniture", "other"),
    ],
)
def test_description_keywords(text, sector):
    assert classify_sector(description=text).sector == sector


def test_keywords_match_whole_words_only():
    assert classify_sector(description="barcode scanners").sector == "other"


def test_explicit_sector_wins_and_is_normalised():
    match = classify_sector(hs_code="0306", description="shrimp", sector=" Apparel ")
    assert (match.sector, match.rule) == ("apparel_ppe", "explicit sector")


def test_unknown_sector_has_the_documented_default():
    match = classify_sector()
    assert (match.sector, match.factor) == ("unknown", 0.5)


def test_name_keyword_is_used_only_when_nothing_else_is_known():
    assert classify_sector(name="Dandong Seafood Co").sector == "seafood"
    assert classify_sector(name="Dandong Trading Co").sector == "unknown"


def test_factors_override_from_a_user_file(tmp_path):
    path = tmp_path / "factors.csv"
    path.write_text("sector,factor\nmachinery,0.8\nother,0\n")
    factors = load_factors(path)
    assert factors["machinery"] == 0.8 and factors["other"] == 0.0 and factors["seafood"] == 1.0
    assert classify_sector(hs_code="8471", factors=factors).factor == 0.8


def test_bad_factor_file_reports_every_problem(tmp_path):
    path = tmp_path / "factors.csv"
    path.write_text("sector,factor\nspaceships,0.5\nseafood,2\n")
    with pytest.raises(InvalidInput) as info:
        load_factors(path)
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "sector"), (3, "factor")]
