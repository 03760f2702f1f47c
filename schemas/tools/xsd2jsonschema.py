#!/usr/bin/env python3
"""JSON Schema (draft 2020-12) of the data standard, made from its XSDs.

    python3 schemas/tools/xsd2jsonschema.py schemas/std/v1/batch.xsd \
        > build/std/json/batch.schema.json

The XSDs are the standard's source; this converts the subset of XML
Schema they use into a JSON Schema of the JSON rendering
(schemas/README.md: element names are the JSON keys, a list's members are
<item>), so that district IT can validate what the gateway forwards with
any JSON Schema validator:

  simple types       xs:string restricted by patterns (anchored, as XSD
                     patterns are), enumerations and lengths; xs:date,
                     xs:dateTime, xs:gYear and xs:gYearMonth as strings of
                     their lexical form (date and date-time also carry
                     "format", which validators may assert); xs:decimal
                     as a number, xs:nonNegativeInteger as an integer
                     from 0, xs:boolean as true or false
  xs:all             an object of exactly those keys, those without
                     minOccurs="0" required
  xs:sequence        of one element named item: an array of it
  xs:sequence        of xs:any: an object of any content (_prov, ext)

Anything else in an XSD stops the conversion with an error, rather than
giving a schema that accepts more than the XSD.  Standard library only.
"""

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

XS = "{http://www.w3.org/2001/XMLSchema}"
TZ = r"(Z|[+\-]\d{2}:\d{2})?"
BUILTIN = {
    "string": {"type": "string"},
    "date": {"type": "string", "format": "date",
             "pattern": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
                        + TZ + "$"},
    "dateTime": {"type": "string", "format": "date-time",
                 "pattern": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
                            r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
                            + TZ + "$"},
    "gYear": {"type": "string", "pattern": r"^\d{4}" + TZ + "$"},
    "gYearMonth": {"type": "string",
                   "pattern": r"^\d{4}-(0[1-9]|1[0-2])" + TZ + "$"},
    "decimal": {"type": "number"},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "boolean": {"type": "boolean"},
}


class Unsupported(Exception):
    pass


def local(tag):
    return tag[len(XS):] if tag.startswith(XS) else tag


def load(path, seen, types):
    """Named simple and complex types of path and what it includes."""
    path = Path(path).resolve()
    if path in seen:
        return None
    seen.add(path)
    root = ET.parse(path).getroot()
    top = None
    for node in root:
        kind = local(node.tag)
        if kind == "include":
            load(path.parent / node.get("schemaLocation"), seen, types)
        elif kind in ("simpleType", "complexType"):
            types[node.get("name")] = node
        elif kind == "element":
            if top is None:
                top = node
        elif not isinstance(node.tag, str) or kind == "annotation":
            continue
        else:
            raise Unsupported("%s: <xs:%s> at the top" % (path.name, kind))
    return top


def type_ref(name):
    if name.startswith("xs:"):
        base = name[3:]
        if base not in BUILTIN:
            raise Unsupported("built-in type %s" % name)
        return dict(BUILTIN[base])
    return {"$ref": "#/$defs/" + name}


def simple(node):
    children = [c for c in node if isinstance(c.tag, str)]
    if len(children) != 1 or local(children[0].tag) != "restriction":
        raise Unsupported("simple type %s is not a restriction"
                          % node.get("name"))
    r = children[0]
    out = type_ref(r.get("base"))
    patterns, enums = [], []
    for f in r:
        if not isinstance(f.tag, str):
            continue
        kind, value = local(f.tag), f.get("value")
        if kind == "pattern":
            patterns.append(value)
        elif kind == "enumeration":
            enums.append(value)
        elif kind == "minLength":
            out["minLength"] = int(value)
        elif kind == "maxLength":
            out["maxLength"] = int(value)
        else:
            raise Unsupported("facet %s of %s" % (kind, node.get("name")))
    if enums:
        out["enum"] = enums
    if patterns:
        # XSD patterns match the whole value; several in one step are
        # alternatives
        own = "^(?:%s)$" % "|".join("(?:%s)" % p for p in patterns)
        if "pattern" in out:
            out = {"allOf": [out, {"pattern": own}]}
        else:
            out["pattern"] = own
    return out


def element_schema(el):
    if el.get("type") is None:
        raise Unsupported("element %s has no named type" % el.get("name"))
    return type_ref(el.get("type"))


def complex_(node):
    name = node.get("name")
    children = [c for c in node if isinstance(c.tag, str)
                and local(c.tag) != "annotation"]
    if len(children) != 1:
        raise Unsupported("complex type %s" % name)
    group = children[0]
    kind = local(group.tag)
    parts = [c for c in group if isinstance(c.tag, str)]
    if kind == "sequence" and parts and all(local(p.tag) == "any"
                                            for p in parts):
        return {"type": "object"}
    if kind == "sequence" and len(parts) == 1 and \
            local(parts[0].tag) == "element" and \
            parts[0].get("name") == "item" and \
            parts[0].get("maxOccurs") == "unbounded":
        out = {"type": "array", "items": element_schema(parts[0])}
        low = int(parts[0].get("minOccurs", "1"))
        if low:
            out["minItems"] = low
        return out
    if kind == "all":
        props, required = {}, []
        for p in parts:
            if local(p.tag) != "element" or p.get("maxOccurs", "1") != "1":
                raise Unsupported("member of xs:all in %s" % name)
            props[p.get("name")] = element_schema(p)
            if p.get("minOccurs", "1") != "0":
                required.append(p.get("name"))
        out = {"type": "object", "properties": props,
               "additionalProperties": False}
        if required:
            out["required"] = required
        return out
    raise Unsupported("complex type %s (xs:%s)" % (name, kind))


def convert(xsd):
    types = {}
    top = load(xsd, set(), types)
    if top is None:
        raise Unsupported("%s declares no element" % xsd)
    defs = {}
    for name in sorted(types):
        node = types[name]
        defs[name] = (simple(node) if local(node.tag) == "simpleType"
                      else complex_(node))
    root = ET.parse(xsd).getroot()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "%s/%s.schema.json" % (root.get("targetNamespace"),
                                      top.get("name")),
        "title": "EduGate data standard v1: %s (JSON rendering), made "
                 "from %s by schemas/tools/xsd2jsonschema.py"
                 % (top.get("name"), Path(xsd).name),
        "$ref": "#/$defs/" + top.get("type"),
        "$defs": defs,
    }
    return schema


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: xsd2jsonschema.py batch.xsd > "
                         "batch.schema.json\n")
        return 2
    try:
        schema = convert(argv[1])
    except (Unsupported, ET.ParseError, OSError) as e:
        sys.stderr.write("xsd2jsonschema: %s\n" % e)
        return 1
    json.dump(schema, sys.stdout, ensure_ascii=False, indent=1,
              sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
