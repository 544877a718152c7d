#!/usr/bin/python3
"""Validate cvmrestore JSON documents against their JSON Schemas (docs/schemas/).

    schema_check.py [--schemas DIR] [--if-named] FILE...
    schema_check.py [--schemas DIR] --check-schemas

A document names its schema in its "schema" member, "cvmrestore-<name>/<version>"; it is
validated against DIR/<name>.schema.json (draft 2020-12), whose "schema" member is a const of
the one version it describes. Exit 0 when every FILE is valid, 1 when one is not (each error on
stderr: the file, where in the document, what is wrong), 2 on a usage error.

--if-named is for helpers that see any JSON file (tests/integration/lib.sh json_check): a file
that is not a JSON object, or an object without "schema", "verdict" and "command" (a seal, a
state file, a descriptor, an ARM template, a test server's state) is skipped; one that has a
"verdict" or "command" but no "schema" is an error, as is an unknown schema name.
--check-schemas checks that every DIR/*.schema.json is itself a valid draft 2020-12 schema.

Needs Debian's python3-jsonschema (4.x); run it with /usr/bin/python3. With RP_SCHEMA_CACHE
set to a folder, a document found valid is remembered there by its SHA-256, so a test that reads
one document many times validates it once (jsonschema is imported only when needed).
"""
import hashlib
import json
import os
import re
import sys

NAME = re.compile(r"^cvmrestore-([a-z][a-z0-9-]*)/([1-9][0-9]*)$")


def default_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "docs", "schemas"))


def load_schema(schemas, name):
    path = os.path.join(schemas, name + ".schema.json")
    with open(path, encoding="utf-8") as f:
        return path, json.load(f)


def validator(schemas, name):
    import jsonschema
    from jsonschema import Draft202012Validator

    path, schema = load_schema(schemas, name)
    # "$ref": "common.schema.json#/..." resolves beside the schema file.
    store = {}
    for fn in os.listdir(schemas):
        if fn.endswith(".schema.json"):
            with open(os.path.join(schemas, fn), encoding="utf-8") as f:
                store["file://" + os.path.join(os.path.abspath(schemas), fn)] = json.load(f)
    resolver = jsonschema.RefResolver(
        "file://" + os.path.abspath(path), schema, store=store)
    return Draft202012Validator(schema, resolver=resolver)


def where(err):
    return "/" + "/".join(str(p) for p in err.absolute_path)


def check_file(schemas, fn, if_named):
    try:
        with open(fn, "rb") as f:
            raw = f.read()
        doc = json.loads(raw)
    except (OSError, ValueError) as e:
        if if_named:
            return 0
        print(f"{fn}: not a JSON document: {e}", file=sys.stderr)
        return 1
    cache = os.environ.get("RP_SCHEMA_CACHE")
    mark = os.path.join(cache, hashlib.sha256(raw).hexdigest()) if cache else None
    if mark and os.path.exists(mark):
        return 0
    rc = check_doc(schemas, fn, doc, if_named)
    if rc == 0 and mark:
        os.makedirs(cache, exist_ok=True)
        open(mark, "w").close()
    return rc


def check_doc(schemas, fn, doc, if_named):
    """0 if doc (read from fn) is valid against the schema it names, else 1 (errors printed)."""
    if not isinstance(doc, dict) or "schema" not in doc:
        if if_named and (not isinstance(doc, dict) or
                         ("verdict" not in doc and "command" not in doc)):
            return 0
        print(f"{fn}: no \"schema\" member: every cvmrestore JSON document names its schema "
              "(docs/schemas/README.md)", file=sys.stderr)
        return 1
    m = NAME.match(doc["schema"]) if isinstance(doc["schema"], str) else None
    if not m or not os.path.exists(os.path.join(schemas, m.group(1) + ".schema.json")):
        print(f"{fn}: unknown schema {json.dumps(doc['schema'])} (docs/schemas/ has no "
              "such name)", file=sys.stderr)
        return 1
    errors = sorted(validator(schemas, m.group(1)).iter_errors(doc),
                    key=lambda e: list(e.absolute_path))
    for e in errors[:20]:
        print(f"{fn}: {doc['schema']}: at {where(e)}: {e.message}", file=sys.stderr)
    return 1 if errors else 0


def main(argv):
    schemas = default_dir()
    if_named = False
    files = []
    check_schemas = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--schemas" and i + 1 < len(argv):
            schemas = argv[i + 1]
            i += 1
        elif a == "--if-named":
            if_named = True
        elif a == "--check-schemas":
            check_schemas = True
        elif a.startswith("-"):
            print(f"schema_check.py: unknown option {a}", file=sys.stderr)
            return 2
        else:
            files.append(a)
        i += 1
    if check_schemas:
        rc = 0
        for fn in sorted(os.listdir(schemas)):
            if not fn.endswith(".schema.json"):
                continue
            import jsonschema
            try:
                _, s = load_schema(schemas, fn[:-len(".schema.json")])
                jsonschema.Draft202012Validator.check_schema(s)
            except (OSError, ValueError, jsonschema.SchemaError) as e:
                print(f"{fn}: not a valid draft 2020-12 schema: {e}", file=sys.stderr)
                rc = 1
        return rc
    if not files:
        print("usage: schema_check.py [--schemas DIR] [--if-named] FILE... | --check-schemas",
              file=sys.stderr)
        return 2
    rc = 0
    for fn in files:
        rc |= check_file(schemas, fn, if_named)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
