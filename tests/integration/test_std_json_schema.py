"""Pins the JSON Schema of the data standard (schemas/tools/
xsd2jsonschema.py, `make std-json`) against the XSDs it is made from: it
is a valid draft 2020-12 schema, and on the fixtures of the standard
(tests/fixtures/std/, read as their JSON rendering) it agrees with
xmllint and lxml: every valid one validates, every invalid one is
refused.  A converter that stops on what it does not know is pinned too.

The fixtures are XML; their JSON rendering is made here by the rules of
schemas/README.md (element names are keys, <item> members of arrays),
using the schema for what is a list, a number or a boolean."""

import json
import subprocess
import sys

import jsonschema
import pytest
from lxml import etree

from servers import REPO

XSD = REPO / "schemas" / "std" / "v1" / "batch.xsd"
CONVERTER = REPO / "schemas" / "tools" / "xsd2jsonschema.py"
FIXTURES = REPO / "tests" / "fixtures" / "std"
# a record straight in a collection: JSON arrays have no member names,
# so this mistake of the XML rendering cannot be made in JSON
NOT_IN_JSON = {"batch-no-item.xml"}


@pytest.fixture(scope="module")
def schema():
    r = subprocess.run([sys.executable, str(CONVERTER), str(XSD)],
                       capture_output=True, text=True, check=True)
    s = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(s)
    return s


def local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def resolve(schema, s):
    while True:
        if "$ref" in s:
            s = schema["$defs"][s["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in s:
            s = s["allOf"][0]
        else:
            return s


def to_json(schema, el, s):
    s = resolve(schema, s) if s is not None else {}
    kids = [c for c in el if isinstance(c.tag, str)]
    t = s.get("type")
    if t == "array":
        return [to_json(schema, c, s["items"]) for c in kids]
    if t == "object" or (t is None and kids):
        props = s.get("properties", {})
        return {local(c.tag): to_json(schema, c, props.get(local(c.tag)))
                for c in kids}
    text = el.text or ""
    if t == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if t == "boolean":
        return {"true": True, "1": True, "false": False,
                "0": False}.get(text, text)
    return text


def rendering(schema, path):
    """The JSON rendering of a fixture, as a batch."""
    root = etree.parse(str(path)).getroot()
    name = local(root.tag)
    batch = schema["$defs"]["BatchType"]
    if name == "batch":
        return to_json(schema, root, batch)
    # a single record: into its collection
    rtype = name[0].upper() + name[1:] + "Type"
    for coll, ref in batch["properties"].items():
        items = resolve(schema, ref).get("items", {})
        if items.get("$ref", "").endswith("/" + rtype):
            return {coll: [to_json(schema, root, items)]}
    raise AssertionError("no collection holds a %s" % name)


def errors(schema, doc):
    v = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker())
    return [e.message for e in v.iter_errors(doc)]


def test_valid_fixtures_validate(schema):
    files = sorted(FIXTURES.glob("*.xml"))
    assert len(files) >= 5
    for f in files:
        assert errors(schema, rendering(schema, f)) == [], f.name


def test_invalid_fixtures_are_refused(schema):
    files = sorted(p for p in (FIXTURES / "invalid").glob("*.xml")
                   if p.name not in NOT_IN_JSON)
    assert len(files) >= 10
    for f in files:
        assert errors(schema, rendering(schema, f)), f.name


def test_what_the_converter_makes(schema):
    d = schema["$defs"]
    # XSD patterns match whole values
    assert d["Grade"]["pattern"] == "^(?:(?:0[1-9]|1[0-2]|PK|KG|K[1-3]))$"
    student = d["StudentType"]
    assert student["additionalProperties"] is False
    assert {"id", "name", "sex", "birthDate", "schoolId",
            "gradeLevel"} <= set(student["required"])
    assert "idNumber" not in student["required"]
    assert d["Sex"]["enum"] == ["0", "1", "2", "9"]
    assert d["StudentList"] == {"type": "array",
                                "items": {"$ref": "#/$defs/StudentType"}}
    # a date of no calendar day fails the format, not only the pattern
    rec = {"students": [{"birthDate": "2016-02-30"}]}
    assert any("date" in m for m in errors(schema, rec))


def test_unknown_construct_stops_the_converter(tmp_path):
    xsd = tmp_path / "choice.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="urn:x" xmlns="urn:x">'
        '<xs:element name="r" type="R"/>'
        '<xs:complexType name="R"><xs:choice>'
        '<xs:element name="a" type="xs:string"/>'
        '</xs:choice></xs:complexType></xs:schema>')
    r = subprocess.run([sys.executable, str(CONVERTER), str(xsd)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    assert "xsd2jsonschema: complex type R (xs:choice)" in r.stderr
