#!/usr/bin/python3
"""Writes the GB/T 2659 country table (scheme, code, name, valid_from,
valid_to, source) to stdout from Debian's iso-codes package.

GB/T 2659 is ISO 3166-1; the 学籍 forms use the alpha-3 code (CHN), so the
code column is alpha-3.  The name is the zh_CN translation that iso-codes
ships where the locale files are installed, the English name otherwise.

    gen-countries.py [iso_3166-1.json]
"""

import csv
import gettext
import json
import re
import sys

DEFAULT = "/usr/share/iso-codes/json/iso_3166-1.json"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)["3166-1"]
    try:
        tr = gettext.translation("iso_3166-1", languages=["zh_CN"])
        name_of = tr.gettext
    except OSError:
        def name_of(s):
            return s
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["scheme", "code", "name", "valid_from", "valid_to",
                  "source"])
    seen = set()
    for e in sorted(entries, key=lambda e: e["alpha_3"]):
        code = e["alpha_3"]
        if not re.fullmatch(r"[A-Z]{3}", code) or code in seen:
            sys.exit("gen-countries: bad or duplicate code %r" % code)
        seen.add(code)
        out.writerow(["gjdq", code, name_of(e["name"]), "", "",
                      "GB/T 2659 (ISO 3166-1) via Debian iso-codes"])
    if len(seen) < 240:
        sys.exit("gen-countries: only %d countries" % len(seen))


if __name__ == "__main__":
    main()
