"""Generate sample_graphs/apparel_ppe/shipments.csv: invented bills of lading, realistically messy.

Every company, record and number is invented. The records cover the apparel_ppe bundle's
companies (names and addresses read from its nodes.csv) plus companies the bundle does not
know: one hidden Dandong subcontractor of Ningbo Hongtai that the supplier's disclosure left
out, and unrelated shippers and buyers (some with names close to the bundle's companies, in
other cities). Names are written the way customs data writes them: upper case, legal forms
spelt many ways, pinyin split or joined, typos, Chinese names, both scripts in one cell.

    python sample_graphs/build_shipments.py [--bundle sample_graphs/apparel_ppe] [--seed 7]

Deterministic for a given seed. Column names follow a trade-data export, so ingesting needs
the mapping file written beside it (shipments_mapping.toml).
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = [
    "Bill of Lading Number",
    "Arrival Date",
    "Shipper",
    "Shipper Name (Local)",
    "Shipper Address",
    "Country of Origin",
    "Consignee",
    "Consignee Address",
    "Notify Party",
    "HS Code",
    "Goods Shipped",
    "Weight (kg)",
    "Value of Goods (USD)",
    "Port of Lading",
    "Port of Unlading",
]

# Companies the bundle does not know: (key, English name, Chinese name, addresses, country)
HIDDEN = {
    "dandong-xinhe": (
        "Dandong Xinhe Garment Processing Co., Ltd.",
        "丹东鑫和服装加工有限公司",
        [
            "No. 16 Jinshan Road, Zhen'an District, Dandong, Liaoning 118001",
            "丹东市振安区金山路16号 118001",
            "JINSHAN RD 16 ZHENAN DIST DAN DONG 118001",
            "Zhen'an District, Dandong",
            "",
        ],
        "CN",
    ),
}
OTHERS = {
    "fjellkraft": ("Fjellkraft Sport AS", "", ["Storgata 12, 0155 Oslo"], "NO"),
    "alpina": ("Alpina Textil GmbH", "", ["Leopoldstrasse 80, 80802 Muenchen"], "DE"),
    "westcoast": ("Westcoast Apparel Ltd", "", ["12 Dock Street, Leeds LS10 1JF"], "GB"),
    "dalian-huaxin": (
        "Dalian Huaxin Garment Co., Ltd.",
        "大连华鑫服装有限公司",
        ["No. 21 Zhongshan Road, Dalian 116001", "大连市中山区中山路21号"],
        "CN",
    ),
    "ningbo-hongda": (
        "Ningbo Hongda Garment Co., Ltd.",
        "宁波宏达服饰有限公司",
        ["No. 9 Zhongxing Road, Jiangbei District, Ningbo 315020"],
        "CN",
    ),
    "dandong-jinhua": (
        "Dandong Jinhua Knitting Co., Ltd.",
        "丹东金华针织有限公司",
        ["Yuanbao District, Dandong 118000"],
        "CN",
    ),
    "qingdao-mingyang": (
        "Qingdao Mingyang Apparel Co., Ltd.",
        "",
        ["No. 8 Hongkong Road, Qingdao 266071"],
        "CN",
    ),
    "xiamen-anta": ("Xiamen Lianfeng Sportswear Co., Ltd.", "", ["Huli District, Xiamen"], "CN"),
    "hcm-garment": ("Saigon Hoa Binh Garment JSC", "", ["District 12, Ho Chi Minh City"], "VN"),
    "dhaka-knit": ("Dhaka Pioneer Knitwear Ltd", "", ["Gazipur, Dhaka 1700"], "BD"),
    "suzhou-silk": ("Suzhou Jinyu Silk Co., Ltd.", "", ["Wujiang, Suzhou 215200"], "CN"),
    "hangzhou-down": (
        "Hangzhou Baixin Down Products Co., Ltd.",
        "",
        ["Xiaoshan, Hangzhou 311200"],
        "CN",
    ),
}

# (shipper key, consignee key, records, HS code, goods, kg per record, USD per kg, ports)
FLOWS = [
    ("s-ningbo-hongtai", "s-nordlys", 300, "6201.40", "MENS SKI JACKETS", 900, 21, "NINGBO"),
    ("s-ningbo-hongtai", "s-nordlys", 90, "6201.40", "SOFTSHELL JACKETS", 700, 18, "NINGBO"),
    ("s-dongguan-huamei", "s-nordlys", 150, "6307.90", "FACE MASKS", 1500, 4, "YANTIAN"),
    ("s-beijing-anxin", "s-nordlys", 60, "6307.90", "SURGICAL MASKS", 1200, 3, "XINGANG"),
    ("s-harbin-dongfang", "s-nordlys", 80, "6110.30", "FLEECE JACKETS", 800, 12, "DALIAN"),
    ("s-dandong-huayang", "s-nordlys", 25, "6201.40", "MENS SKI JACKETS", 600, 16, "DANDONG"),
    (
        "s-shaoxing-yongli",
        "s-ningbo-hongtai",
        200,
        "5407.42",
        "NYLON TASLAN FABRIC",
        4000,
        4,
        "SHANGHAI",
    ),
    ("s-hanil-fiber", "s-ningbo-hongtai", 80, "5601.22", "POLYESTER WADDING", 2500, 3, "BUSAN"),
    ("s-formosa-membrane", "s-ningbo-hongtai", 60, "3921.90", "PU MEMBRANE", 1500, 9, "KEELUNG"),
    ("s-fujian-xunda", "s-ningbo-hongtai", 60, "9607.11", "METAL ZIPPERS", 500, 14, "XIAMEN"),
    ("s-shanghai-daesung", "s-ningbo-hongtai", 50, "9607.11", "NYLON ZIPPERS", 400, 12, "SHANGHAI"),
    ("s-hk-crown-label", "s-ningbo-hongtai", 40, "5807.10", "WOVEN LABELS", 100, 40, "HONG KONG"),
    (
        "s-dandong-jinhui",
        "s-ningbo-hongtai",
        120,
        "6201.40",
        "SEWN JACKET SHELLS CMT",
        1100,
        11,
        "DANDONG",
    ),
    (
        "s-hunchun-xinyuan",
        "s-ningbo-hongtai",
        70,
        "6202.40",
        "KIDS SNOW JACKETS CMT",
        900,
        10,
        "DALIAN",
    ),
    (
        "dandong-xinhe",
        "s-ningbo-hongtai",
        90,
        "6201.40",
        "SEWN JACKET SHELLS CMT",
        1000,
        11,
        "DANDONG",
    ),
    ("s-jilin-meili", "s-dongguan-huamei", 60, "6307.90", "COTTON FACE MASKS", 800, 5, "DALIAN"),
    (
        "s-yizheng-meltblown",
        "s-dongguan-huamei",
        80,
        "5603.12",
        "MELTBLOWN NONWOVEN",
        3000,
        3,
        "SHANGHAI",
    ),
    ("s-dongguan-lianfa", "s-dongguan-huamei", 40, "5604.10", "ELASTIC CORD", 600, 4, "SHENZHEN"),
    ("s-hebei-jiahe", "s-dongguan-huamei", 60, "5603.13", "SPUNBOND NONWOVEN", 3500, 2, "TIANJIN"),
    ("dalian-huaxin", "fjellkraft", 120, "6201.40", "MENS JACKETS", 900, 15, "DALIAN"),
    ("ningbo-hongda", "fjellkraft", 150, "6203.42", "TROUSERS", 800, 9, "NINGBO"),
    ("dandong-jinhua", "alpina", 110, "6110.20", "KNITTED SWEATERS", 700, 14, "DALIAN"),
    ("qingdao-mingyang", "alpina", 140, "6204.62", "WOMENS TROUSERS", 800, 10, "QINGDAO"),
    ("xiamen-anta", "westcoast", 130, "6211.33", "TRACKSUITS", 900, 8, "XIAMEN"),
    ("hcm-garment", "westcoast", 160, "6205.20", "COTTON SHIRTS", 700, 9, "HO CHI MINH"),
    ("dhaka-knit", "fjellkraft", 170, "6109.10", "COTTON T-SHIRTS", 1200, 5, "CHITTAGONG"),
    ("suzhou-silk", "alpina", 90, "5007.20", "SILK FABRIC", 300, 40, "SHANGHAI"),
    ("hangzhou-down", "fjellkraft", 100, "6201.93", "DOWN JACKETS", 600, 25, "NINGBO"),
]
DISCHARGE = {
    "s-nordlys": "GOTHENBURG",
    "fjellkraft": "OSLO",
    "alpina": "HAMBURG",
    "westcoast": "FELIXSTOWE",
    "s-ningbo-hongtai": "NINGBO",
    "s-dongguan-huamei": "YANTIAN",
}
PORT_SPELLINGS = {
    "DANDONG": ["DANDONG", "DANDONG, CHINA", "Dandong Port", "丹东", "CNDDG"],
    "DALIAN": ["DALIAN", "DALIAN, CHINA", "Dalian", "CNDLC", "DALIAN PT"],
}
PINYIN_SPLITS = {
    "Dandong": "Dan Dong",
    "Ningbo": "Ning Bo",
    "Hunchun": "Hun Chun",
    "Shaoxing": "Shao Xing",
    "Dongguan": "Dong Guan",
    "Dalian": "Da Lian",
    "Qingdao": "Qing Dao",
    "Xinhe": "Xin He",
    "Hongtai": "Hong Tai",
    "Jinhui": "Jin Hui",
    "Huayang": "Hua Yang",
}
LEGAL_FORMS = ["Co., Ltd.", "CO LTD", "Co.,Ltd", "Company Limited", "CO., LIMITED", "Co Ltd", ""]


class Writer:
    """Turns a company and a record number into one messy bill-of-lading row."""

    def __init__(self, companies: dict, seed: int):
        self.companies = companies
        self.rng = random.Random(seed)

    def name(self, key: str) -> tuple[str, str]:
        """(name cell, local-name cell) written one of the ways customs data writes it."""
        english, chinese, _, _ = self.companies[key]
        r = self.rng.random()
        if chinese and r < 0.12:
            return chinese, ""
        if chinese and r < 0.22:
            return f"{self.spelling(english)} {chinese}", ""
        if chinese and r < 0.32:
            return self.spelling(english), chinese
        return self.spelling(english), ""

    def spelling(self, english: str) -> str:
        rng = self.rng
        base = english
        for form in ("Co., Ltd.", "Co."):
            if base.endswith(form):
                base = base[: -len(form)].strip() + " " + rng.choice(LEGAL_FORMS)
                break
        words = base.split()
        if rng.random() < 0.2:  # pinyin written in syllables: "Dan Dong"
            words = [PINYIN_SPLITS.get(w, w) for w in words]
        if rng.random() < 0.06:  # one typo: swap two letters inside a long word
            i = rng.randrange(len(words))
            w = words[i]
            if len(w) >= 6:
                j = rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        text = " ".join(w for w in words if w)
        return text.upper() if rng.random() < 0.5 else text

    def address(self, key: str) -> str:
        addresses = self.companies[key][2]
        if self.rng.random() < 0.1:
            return ""
        text = self.rng.choice(addresses)
        return text.upper() if self.rng.random() < 0.3 else text

    def port(self, port: str) -> str:
        return self.rng.choice(PORT_SPELLINGS.get(port, [port]))

    def hs(self, code: str) -> str:
        r = self.rng.random()
        if r < 0.05:
            return ""
        if r < 0.3:
            return code.replace(".", "")
        if r < 0.4:
            return code + ".00"
        return code

    def amounts(self, kg: float, usd_per_kg: float) -> tuple[str, str]:
        rng = self.rng
        weight = round(kg * rng.uniform(0.5, 1.5))
        value = round(weight * usd_per_kg * rng.uniform(0.85, 1.15), 2)
        r = rng.random()
        if r < 0.1:
            return str(weight), ""
        if r < 0.14:
            return "", f"{value:,.2f}"
        if r < 0.3:
            return f"{weight:,} KG", f"${value:,.2f}"
        return str(weight), f"{value:.2f}"

    def when(self) -> str:
        day = date(2024, 1, 1) + timedelta(days=self.rng.randrange(540))
        style = self.rng.random()
        if style < 0.6:
            return day.isoformat()
        if style < 0.8:
            return day.strftime("%Y/%m/%d")
        return day.strftime("%d %b %Y")


def bundle_companies(bundle: Path) -> dict:
    """The bundle's suppliers: id -> (name, chinese name, [address], country)."""
    with (bundle / "nodes.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["kind"] == "supplier"]
    return {r["id"]: (r["name"], "", [r["address"]], r["country"]) for r in rows}


def build(bundle: Path, seed: int) -> list[list[str]]:
    companies = {**bundle_companies(bundle), **HIDDEN, **OTHERS}
    writer = Writer(companies, seed)
    rows = []
    for shipper, consignee, count, hs, goods, kg, usd, port in FLOWS:
        for _ in range(count):
            name, local = writer.name(shipper)
            weight, value = writer.amounts(kg, usd)
            rows.append(
                [
                    "",
                    writer.when(),
                    name,
                    local,
                    writer.address(shipper),
                    companies[shipper][3] if writer.rng.random() < 0.8 else "",
                    writer.name(consignee)[0],
                    writer.address(consignee),
                    "" if writer.rng.random() < 0.7 else writer.spelling(companies[consignee][0]),
                    writer.hs(hs),
                    goods if writer.rng.random() < 0.7 else goods.lower(),
                    weight,
                    value,
                    writer.port(port),
                    DISCHARGE[consignee],
                ]
            )
    writer.rng.shuffle(rows)
    for number, row in enumerate(rows, start=1):
        row[0] = f"BL{2024000000 + number * 37:010d}"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=HERE / "apparel_ppe")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or args.bundle / "shipments.csv"
    rows = build(args.bundle, args.seed)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"wrote {out}: {len(rows)} records")


if __name__ == "__main__":
    main()
