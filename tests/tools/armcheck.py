#!/usr/bin/python3
"""armcheck.py: check the resources of an ARM template against Microsoft's API definitions.

    armcheck.py SPECDIR TEMPLATE.json...

SPECDIR is tests/armspec (Microsoft.Compute swagger files, see its README). Each resource of
each template is looked up by type and apiVersion (Microsoft.Compute/disks -> DiskRP/stable/
<version>/disk.json#Disk, Microsoft.Compute/virtualMachines -> ComputeRP/stable/<version>/
virtualMachine.json#VirtualMachine); a version whose files are not there is an error, so that
changing an apiVersion means vendoring its definition. The resource minus its template-level
members (type, apiVersion, name, dependsOn, condition, comments, copy) must then fit the
definition:
  - every member is a property the definition (with its allOf parts) names: an unknown member
    is an error (a typo, or a property of another api-version);
  - readOnly properties are not sent; required ones are;
  - values have the declared type and, for enums, one of the listed values (exact case);
  - an ARM expression ("[...]", not "[[") stands for a value of any type and is not checked.
Prints one line per problem ("vm.json: resources[0].properties.storageProfile.osDisk.bogus: not
a property of OSDisk") and exits 1 if there is any, else prints "ok: N resources" and exits 0.
"""
import json
import os
import sys

DEFS = {
    "Microsoft.Compute/disks": ("DiskRP", "disk.json", "Disk"),
    "Microsoft.Compute/virtualMachines": ("ComputeRP", "virtualMachine.json", "VirtualMachine"),
}
TEMPLATE_MEMBERS = {"type", "apiVersion", "name", "dependsOn", "condition", "comments", "copy"}


class Spec:
    def __init__(self):
        self.files = {}

    def load(self, path):
        path = os.path.normpath(path)
        if path not in self.files:
            with open(path) as f:
                self.files[path] = json.load(f)
        return self.files[path]

    def resolve(self, base, ref):
        """(file, schema, name) of a $ref made in file base."""
        fpart, _, frag = ref.partition("#")
        path = os.path.normpath(os.path.join(os.path.dirname(base), fpart)) if fpart else base
        node = self.load(path)
        for part in frag.strip("/").split("/"):
            node = node[part]
        return path, node, frag.rsplit("/", 1)[-1]


def is_expression(v):
    return isinstance(v, str) and v.startswith("[") and not v.startswith("[[")


class Checker:
    def __init__(self, spec, where):
        self.spec, self.where, self.problems = spec, where, []

    def bad(self, path, msg):
        self.problems.append("%s: %s: %s" % (self.where, path, msg))

    def flatten(self, base, schema, name):
        """The properties, required names and readOnly names of an object schema with allOf."""
        props, required = {}, set(schema.get("required", []))
        for part in schema.get("allOf", []):
            pbase, pschema, _ = self.spec.resolve(base, part["$ref"]) if "$ref" in part else (
                base, part, name)
            p, r = self.flatten(pbase, pschema, name)
            props.update(p)
            required |= r
        for k, v in schema.get("properties", {}).items():
            props[k] = (base, v)
        return props, required

    def check(self, base, schema, name, value, path):
        if "$ref" in schema:
            base, target, name = self.spec.resolve(base, schema["$ref"])
            merged = dict(target)
            merged.update({k: v for k, v in schema.items() if k != "$ref"})
            schema = merged
        if is_expression(value):
            return
        t = schema.get("type")
        if t is None and ("properties" in schema or "allOf" in schema):
            t = "object"
        if t == "object":
            if not isinstance(value, dict):
                self.bad(path, "is not an object (%s)" % name)
                return
            props, required = self.flatten(base, schema, name)
            extra = schema.get("additionalProperties")
            for k, v in value.items():
                if k not in props:
                    if isinstance(extra, dict):
                        self.check(base, extra, name, v, "%s.%s" % (path, k))
                    else:
                        self.bad("%s.%s" % (path, k), "not a property of %s" % name)
                    continue
                pbase, pschema = props[k]
                if pschema.get("readOnly"):
                    self.bad("%s.%s" % (path, k), "is read-only (set by the service)")
                self.check(pbase, pschema, k, v, "%s.%s" % (path, k))
            for k in sorted(required - set(value)):
                if not props.get(k, (None, {}))[1].get("readOnly"):
                    self.bad(path, "lacks the required property %s" % k)
        elif t == "array":
            if not isinstance(value, list):
                self.bad(path, "is not an array")
                return
            for i, v in enumerate(value):
                self.check(base, schema.get("items", {}), name, v, "%s[%d]" % (path, i))
        elif t == "string":
            if not isinstance(value, str):
                self.bad(path, "is not a string")
            elif "enum" in schema and value not in schema["enum"]:
                self.bad(path, "'%s' is not one of %s" % (value, ", ".join(schema["enum"])))
        elif t == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                self.bad(path, "is not an integer")
        elif t == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.bad(path, "is not a number")
        elif t == "boolean":
            if not isinstance(value, bool):
                self.bad(path, "is not a boolean")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    specdir, problems, n = sys.argv[1], [], 0
    spec = Spec()
    for tpath in sys.argv[2:]:
        with open(tpath) as f:
            template = json.load(f)
        where = os.path.basename(tpath)
        for i, res in enumerate(template.get("resources", [])):
            n += 1
            kind = DEFS.get(res.get("type"))
            if not kind:
                problems.append("%s: resources[%d]: no definition for type %s" %
                                (where, i, res.get("type")))
                continue
            file = os.path.join(specdir, "Microsoft.Compute", kind[0], "stable",
                                str(res.get("apiVersion")), kind[1])
            if not os.path.exists(file):
                problems.append("%s: resources[%d]: %s api-version %s is not vendored under %s" %
                                (where, i, res.get("type"), res.get("apiVersion"), specdir))
                continue
            body = {k: v for k, v in res.items() if k not in TEMPLATE_MEMBERS}
            c = Checker(spec, where)
            c.check(file, spec.load(file)["definitions"][kind[2]], kind[2], body,
                    "resources[%d]" % i)
            problems += c.problems
    for p in problems:
        print(p)
    if problems:
        return 1
    print("ok: %d resources" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
