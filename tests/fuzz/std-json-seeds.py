#!/usr/bin/env python3
"""Writes the JSON rendering of the data-standard XML fixtures (the
mapping of schemas/README.md: <item> children make an array, other
element children an object, a leaf its text) into a directory, as seeds
for the fuzz_std_json target.

    std-json-seeds.py <out dir> <fixture.xml>...
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

COLLECTIONS = {
    'org': 'orgs', 'school': 'schools', 'academicSession':
    'academicSessions', 'course': 'courses', 'class': 'classes',
    'student': 'students', 'staff': 'staff', 'enrollment': 'enrollments',
    'schoolEnrollment': 'schoolEnrollments', 'lineItem': 'lineItems',
    'result': 'results',
}


def local(tag):
    return tag.rsplit('}', 1)[-1]


def value(el):
    kids = list(el)
    if not kids:
        return (el.text or '').strip()
    if all(local(k.tag) == 'item' for k in kids):
        return [value(k) for k in kids]
    return {local(k.tag): value(k) for k in kids}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[2:]:
        root = ET.parse(path).getroot()
        name = local(root.tag)
        doc = value(root)
        if name != 'batch':
            doc = {COLLECTIONS.get(name, name): [doc]}
        base = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(out, base + '.json'), 'w',
                  encoding='utf-8') as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)


if __name__ == '__main__':
    main()
