import csv
from pathlib import Path

import pytest

from graphkit.screen.geo import (
    DEFAULT_SCOPE,
    format_evidence,
    is_valid_uscc,
    parse_scope,
    resolve_address,
    uscc_check_char,
)

LABELLED = Path(__file__).parent / "data" / "addresses_labelled.csv"


def labelled_rows():
    with LABELLED.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_labelled_set_is_large_and_balanced():
    rows = labelled_rows()
    assert len(rows) >= 400
    assert sum(r["in_scope"] == "false" for r in rows) >= 150


def test_labelled_set_precision_recall_and_province_accuracy():
    tp = fp = fn = right = counted = 0
    for row in labelled_rows():
        res = resolve_address(row["address"], row["country_hint"])
        expected = row["in_scope"] == "true"
        tp += res.in_scope and expected
        fp += res.in_scope and not expected
        fn += expected and not res.in_scope
        if row["province"]:
            counted += 1
            right += res.province == row["province"]
    assert tp / (tp + fp) >= 0.98
    assert tp / (tp + fn) >= 0.98
    assert right / counted >= 0.95


@pytest.mark.parametrize(
    "text",
    ["Dandong", "DANDONG", "Dan Dong", "Dāndōng", "丹东市", "丹東市", "Antung", "Dandnog"],
)
def test_spellings_and_scripts_of_one_city(text):
    res = resolve_address(text)
    assert (res.province, res.country, res.in_scope) == ("Liaoning", "CN", True)


def test_jilin_is_a_province_and_a_city():
    assert resolve_address("Jilin City").province == "Jilin"
    assert resolve_address("吉林省吉林市").province == "Jilin"


@pytest.mark.parametrize(
    "text, province",
    [
        ("1088 Dalian Road, Yangpu District, Shanghai", "Shanghai"),
        ("上海市杨浦区大连路1088号", "Shanghai"),
        ("No. 12, Liaoning St., Zhongshan Dist., Taipei City", "Taiwan"),
        ("台北市中山區遼寧街12號", "Taiwan"),
        ("Jilin Road, Shibei District, Qingdao", "Shandong"),
        ("天津市和平区鞍山道", "Tianjin"),
    ],
)
def test_street_named_after_a_northeastern_place_is_not_a_location(text, province):
    res = resolve_address(text)
    assert res.province == province and not res.in_scope
    streets = [s for s in res.evidence if s.kind == "street"]
    assert streets and not any(s.agreed for s in streets)
    assert "ignored (street name)" in format_evidence(res.evidence)


def test_a_street_name_alone_is_no_evidence():
    res = resolve_address("Dalian Road 5")
    assert not res.in_scope and res.province == ""


@pytest.mark.parametrize(
    "text, province, in_scope",
    [
        ("Chaoyang District, Beijing", "Beijing", False),
        ("北京市朝阳区建国路88号", "Beijing", False),
        ("Chaoyang City, Liaoning", "Liaoning", True),
        ("Chaoyang District, Changchun", "Jilin", True),
        ("Jinzhou, Hebei", "Hebei", False),
        ("Jinzhou District, Dalian", "Liaoning", True),
        ("Ji'an, Jiangxi", "Jiangxi", False),
        ("Ji'an, Tonghua, Jilin", "Jilin", True),
    ],
)
def test_shared_district_names_are_settled_by_other_signals(text, province, in_scope):
    res = resolve_address(text)
    assert (res.province, res.in_scope) == (province, in_scope)


def test_conflicting_signal_is_reported_as_disagreeing():
    # "Chaoyang District, Beijing" no longer conflicts: Beijing's own Chaoyang District is read
    res = resolve_address("Zhenxing District, Shanghai")
    assert any(not s.agreed and s.province == "Liaoning" for s in res.evidence)
    assert any(s.agreed and s.province == "Shanghai" for s in res.evidence)


@pytest.mark.parametrize(
    "text, country",
    [
        ("Kim Young-chul Trading Co., 1588 Huaihai Road, Shanghai", "CN"),
        ("Park & Lee Apparel, Gangnam-gu, Seoul", "KR"),
        ("김철수 무역, 서울특별시 강남구", ""),
        ("上海市闵行区朝鲜族饭店", "CN"),
        ("Chosun Trading, Shanghai", "CN"),
        ("Namyang Dairy Products, Seoul", "KR"),
    ],
)
def test_korean_names_and_words_are_never_evidence(text, country):
    res = resolve_address(text)
    assert not res.in_scope
    assert res.country == country
    assert all(s.province != "North Korea" or not s.agreed for s in res.evidence)


def test_korean_name_in_an_in_scope_place_is_flagged_for_the_place():
    res = resolve_address("Kim's Seafood Co., Hunchun")
    assert res.in_scope and [s.matched_text for s in res.evidence if s.agreed] == ["Hunchun"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Room 5, 118000", True),
        ("Postcode 116600", True),
        ("Order 118000, Room 5", False),
        ("PO#116001", False),
        ("Invoice No. 130000", False),
    ],
)
def test_six_digit_numbers_are_weighed_by_context(text, expected):
    assert resolve_address(text).in_scope is expected


def test_postal_code_with_lost_leading_zero_needs_context():
    assert resolve_address("Zip 30000").province == "Shanxi"
    assert resolve_address("Batch 30000").province == ""


def test_bare_postal_code_is_weaker_than_one_with_a_keyword():
    assert (
        resolve_address("Room 5, 118000").confidence < resolve_address("Postcode 118000").confidence
    )


@pytest.mark.parametrize(
    "text, province",
    [
        ("Tel: 0415-3125678", "Liaoning"),
        ("+86-431-8888-1234", "Jilin"),
        ("(021) 6234 5678", "Shanghai"),
    ],
)
def test_phone_area_codes(text, province):
    assert resolve_address(text).province == province


def test_mobile_number_is_not_an_area_code():
    assert resolve_address("Mobile 138 0415 1234").province == ""


def test_uscc_check_character_matches_published_codes():
    for code in ("914403001922038216", "9144030071526726XG", "91330100799655058B"):
        assert uscc_check_char(code[:17]) == code[17]
        assert is_valid_uscc(code)
    assert not is_valid_uscc("914403001922038217")


def test_uscc_division_code_locates_and_bad_check_char_does_not():
    first17 = "91210600MA0Q1B2C3"
    code = first17 + uscc_check_char(first17)
    assert resolve_address(f"USCC {code}").province == "Liaoning"
    wrong = first17 + ("0" if code[-1] != "0" else "1")
    assert resolve_address(f"USCC {wrong}").province == ""


def test_iso_codes():
    assert resolve_address("CN-LN").province == "Liaoning"
    assert resolve_address("CN-22").province == "Jilin"


def test_north_korea_places_and_country_column():
    for text in ("Sinuiju", "Rason Special Economic Zone", "平壤", "DPRK"):
        res = resolve_address(text)
        assert (res.province, res.country, res.in_scope) == ("North Korea", "KP", True)
    assert resolve_address("Factory 5", country="KP").in_scope


def test_typos_are_matched_with_lower_weight():
    exact, typo = resolve_address("Shenyang"), resolve_address("Shenyan")
    assert typo.province == "Liaoning" and typo.confidence < exact.confidence
    assert typo.evidence[0].kind.endswith("(typo)")


def test_province_column_combines_with_the_address():
    res = resolve_address("Tiexi District", province="Jilin")
    assert res.province == "Jilin"


def test_scope_is_configurable():
    assert not resolve_address("Harbin").in_scope
    assert resolve_address("Harbin", scope=parse_scope("heilongjiang")).in_scope
    rfe = parse_scope("liaoning,jilin,north_korea,russia_far_east")
    assert resolve_address("Vladivostok, Primorsky Krai", scope=rfe).in_scope
    assert not resolve_address("Vladivostok", scope=DEFAULT_SCOPE).in_scope
    with pytest.raises(ValueError, match="atlantis"):
        parse_scope("liaoning,atlantis")


def test_empty_and_placeless_text():
    for text in ("", "Unknown", "Warehouse 3, Industrial Estate"):
        res = resolve_address(text)
        assert (res.province, res.in_scope, res.confidence) == ("", False, 0.0)


@pytest.mark.parametrize(
    "text, province",
    [
        ("Mukden", "Liaoning"),
        ("Dairen", "Liaoning"),
        ("Port Arthur", "Liaoning"),
        ("Hsinking", "Jilin"),
        ("Newchwang", "Liaoning"),
        ("Pen-hsi", "Liaoning"),
        ("Heilungkiang", "Heilongjiang"),
        ("瀋陽市", "Liaoning"),
        ("琿春市", "Jilin"),
        ("黑龍江省", "Heilongjiang"),
        ("遼寧省", "Liaoning"),
    ],
)
def test_historic_names_wade_giles_and_traditional_characters(text, province):
    assert resolve_address(text).province == province


@pytest.mark.parametrize(
    "text", ["Bayuquan Port", "Port of Dalian", "CNDLC", "Quanhe Port, Hunchun", "Nampo Port"]
)
def test_ports_and_crossings_are_in_scope(text):
    assert resolve_address(text).in_scope


def test_street_evidence_names_the_whole_street():
    res = resolve_address("1088 Dalian West Road, Shanghai")
    assert [s.matched_text for s in res.evidence if s.kind == "street"] == ["Dalian West Road"]
    res = resolve_address("台北市中山區遼寧街12號")
    assert [s.matched_text for s in res.evidence if s.kind == "street"] == ["遼寧街"]


def test_full_width_digits_and_postal_keyword_in_chinese():
    assert resolve_address("邮编１１８０００").province == "Liaoning"


def test_country_column_alone_and_disagreeing_with_the_address():
    assert resolve_address("", country="North Korea").province == "North Korea"
    res = resolve_address("Sinuiju", country="CN")
    assert res.province == "North Korea"
    assert any(s.kind == "country column" and not s.agreed for s in res.evidence)
