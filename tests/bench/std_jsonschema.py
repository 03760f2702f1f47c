#!/usr/bin/python3
"""Figure (c) of the data-standard part of `make bench`: Debian's
python3-jsonschema validating standard JSON against the JSON Schema of
the standard (build/std/json/batch.schema.json, made from the XSDs by
schemas/tools/xsd2jsonschema.py), as a district would script it.

    std_jsonschema.py batch.schema.json docs.jsonl seconds

docs.jsonl holds one JSON document a line (a batch of one record, or of
many).  Each pass reads every line with json.loads and validates it
(draft 2020-12, formats asserted); the passes repeat until the seconds
are over.  Records are the members of the batch's lists.  Every document
must validate, or the run fails.

Prints "records=N seconds=S per_second=R".
"""

import json
import sys
import time

import jsonschema


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: std_jsonschema.py batch.schema.json "
                         "docs.jsonl seconds\n")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=jsonschema.FormatChecker())
    with open(argv[2], encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n") if line]
    counts = [sum(len(v) for v in json.loads(line).values()
                  if isinstance(v, list)) for line in lines]
    if not sum(counts):
        sys.stderr.write("std_jsonschema: no record in %s\n" % argv[2])
        return 1
    seconds = float(argv[3])
    records = 0
    start = time.monotonic()
    while True:
        for line, n in zip(lines, counts):
            doc = json.loads(line)
            error = jsonschema.exceptions.best_match(
                validator.iter_errors(doc))
            if error is not None:
                sys.stderr.write("std_jsonschema: a document does not "
                                 "validate: %s\n" % error.message)
                return 1
            records += n
        took = time.monotonic() - start
        if took >= seconds:
            break
    print("records=%d seconds=%.3f per_second=%.0f"
          % (records, took, records / took))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
