#!/usr/bin/env python3
"""placement_schema_test.py SCHEMA DOC: placement.schema.json is a valid draft 2020-12 schema,
accepts the example in placement.md and rejects broken placement files. Exit 77 (skipped)
without Python's jsonschema."""
import copy
import json
import re
import sys

try:
    import jsonschema
except ImportError:
    print("jsonschema is not installed: skipped")
    sys.exit(77)

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
example = json.loads(re.search(r"```json\n(.*?)```", open(sys.argv[2]).read(), re.S).group(1))
errors = [e.message for e in validator.iter_errors(example)]
if errors:
    sys.exit(f"the documented example is rejected: {errors}")


def broken(change):
    doc = copy.deepcopy(example)
    change(doc)
    return doc


bad = {
    "another format": broken(lambda d: d.update(format="moeprof-report")),
    "version 2": broken(lambda d: d.update(version=2)),
    "no num_experts": broken(lambda d: d.pop("num_experts")),
    "zero ranks": broken(lambda d: d.update(num_ranks=0)),
    "unknown key": broken(lambda d: d.update(defualt={})),
    "nothing placed": broken(lambda d: (d.pop("layers"), d.pop("default"))),
    "expert on no rank": broken(lambda d: d["default"]["experts"].__setitem__(0, [])),
    "rank twice": broken(lambda d: d["default"]["experts"].__setitem__(0, [1, 1])),
    "negative rank": broken(lambda d: d["default"]["experts"].__setitem__(0, [-1])),
    "fractional rank": broken(lambda d: d["default"]["experts"].__setitem__(0, [0.5])),
    "layer without experts": broken(lambda d: d["layers"][0].pop("experts")),
    "negative layer": broken(lambda d: d["layers"][0].update(layer=-1)),
}
accepted = [name for name, doc in bad.items() if validator.is_valid(doc)]
if accepted:
    sys.exit(f"the schema accepts broken files: {accepted}")
print(f"example accepted, {len(bad)} broken files rejected")
