#!/usr/bin/env python3
"""openapi_check.py DOC RECORDS - checks recorded API answers against docs/openapi.json.

RECORDS has one answer per line, tab-separated: METHOD, the route template (e.g.
/jobs/{name}/pause, or the raw path of a route that does not exist), the status, and the
file holding the body. For every answer:
  - the route and method are in the document and list the status (405: the path is in the
    document without that method, and components.responses.MethodNotAllowed exists; 404
    for a path not in the document: components.responses.NotFound exists);
  - the body validates against the documented schema (type, required, properties, items,
    enum, nullable, additionalProperties false) - errors against the Error schema.
Prints each problem; exit 1 when there is any. Only the json module: no dependency.
"""
import json
import sys


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        cur = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            cur = cur[part]
        node = cur
    return node


def validate(doc, schema, value, where, problems):
    schema = resolve(doc, schema)
    if value is None:
        if not schema.get("nullable") and "type" in schema:
            problems.append(f"{where}: null, but not nullable")
        return
    if "oneOf" in schema:
        if not any(not _collect(doc, s, value) for s in schema["oneOf"]):
            problems.append(f"{where}: matches none of oneOf")
        return
    t = schema.get("type")
    ok = {"object": isinstance(value, dict), "array": isinstance(value, list), "string": isinstance(value, str),
          "integer": isinstance(value, int) and not isinstance(value, bool),
          "number": isinstance(value, (int, float)) and not isinstance(value, bool),
          "boolean": isinstance(value, bool), None: True}.get(t, True)
    if not ok:
        problems.append(f"{where}: {type(value).__name__} {json.dumps(value)[:60]}, documented as {t}")
        return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                problems.append(f"{where}: missing required member {k!r}")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                validate(doc, props[k], v, f"{where}.{k}", problems)
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}: member {k!r} is not documented")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(doc, schema["items"], v, f"{where}[{i}]", problems)


def _collect(doc, schema, value):
    p = []
    validate(doc, schema, value, "", p)
    return p


def main():
    doc = json.load(open(sys.argv[1]))
    paths = doc["paths"]
    responses = doc["components"]["responses"]
    problems, seen = [], set()
    for line in open(sys.argv[2]):
        method, route, status, body_file = line.rstrip("\n").split("\t")
        where = f"{method} {route} -> {status}"
        seen.add((method, route, status))
        try:
            body = json.load(open(body_file))
        except ValueError as e:
            problems.append(f"{where}: the body is not JSON: {e}")
            continue
        if route not in paths:
            if status != "404" or "NotFound" not in responses:
                problems.append(f"{where}: path not documented")
                continue
            resp = responses["NotFound"]
        elif method.lower() not in paths[route]:
            if status != "405" or "MethodNotAllowed" not in responses:
                problems.append(f"{where}: method not documented for this path")
                continue
            resp = responses["MethodNotAllowed"]
        else:
            op = paths[route][method.lower()]
            if status not in op["responses"]:
                problems.append(f"{where}: status not documented (documented: {sorted(op['responses'])})")
                continue
            resp = resolve(doc, op["responses"][status])
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        if schema:
            validate(doc, schema, body, where, problems)
    for p in problems:
        print("openapi_check: " + p)
    print(f"openapi_check: {len(seen)} distinct answers checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
