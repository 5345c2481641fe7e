"""Turns samples.json (extract.py) into response schemas: {"METHOD path status": {ctype: schema}}.
JSON bodies: the schema every sample satisfies (genson), cut to DEPTH levels: below that only the
JSON type is stated, so the contract does not freeze the inside of credentials and schemas."""
import json, sys
from genson import SchemaBuilder

DEPTH = 3

def cut(schema, depth):
    if not isinstance(schema, dict):
        return schema
    if "anyOf" in schema:
        return {"anyOf": [cut(s, depth) for s in schema["anyOf"]]}
    out = {k: v for k, v in schema.items() if k in ("type", "required")}
    if depth >= DEPTH:
        out.pop("required", None)
        return out
    if "properties" in schema:
        out["properties"] = {k: cut(v, depth + 1) for k, v in schema["properties"].items()}
    if "items" in schema:
        out["items"] = cut(schema["items"], depth + 1)
    return out

samples = json.load(open(sys.argv[1]))
result = {}
for key in sorted(samples):
    by_type = {}
    for ctype, bodies in samples[key].items():
        if ctype.endswith("json") or ctype == "application/vc":
            builder = SchemaBuilder(schema_uri=None)
            for b in bodies:
                builder.add_object(b)
            by_type[ctype] = cut(builder.to_schema(), 0)
        else:
            by_type[ctype or "application/octet-stream"] = {"type": "string"}
    result[key] = by_type
# One answer a line: a change to one route's answer is a one-line diff.
lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}" for k, v in result.items()]
with open(sys.argv[2], "w") as out:
    out.write("{\n" + ",\n".join(lines) + "\n}\n")
print(len(result), "responses")
