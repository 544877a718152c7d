// k8s_validate.mjs MANIFESTS.json...: validate Kubernetes objects against the API's schemas with
// the npm package kubernetes-models (its per-kind validators are generated from the Kubernetes
// OpenAPI documents: types, formats, enums, required members), and, as `kubectl apply
// --validate=strict` does, refuse members the API does not have (the validators let them pass:
// they are found from the package's TypeScript declarations of each kind, one interface per
// file, which list every member and its type). Each MANIFESTS.json is a JSON
// array of objects (a YAML file's documents, converted by the calling test). Prints one line per
// object, "ok KIND NAME" or "invalid KIND NAME: the validator's message" (after "FILE: " when
// given several files), and exits 0 when all are valid, 1 when one is not, 2 on bad input or a
// missing package.
//
// The package is found in $K8S_NODE_MODULES (default: tests/azurite/node_modules, where
// `npm ci` in tests/azurite installs it from package-lock.json).
import { readFileSync, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.K8S_NODE_MODULES || join(here, "..", "azurite", "node_modules");
const pkg = join(modules, "kubernetes-models");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: k8s_validate.mjs MANIFESTS.json...");
  process.exit(2);
}
if (!existsSync(join(pkg, "package.json"))) {
  console.error(`k8s_validate: kubernetes-models is not installed in '${modules}' (npm ci in tests/azurite)`);
  process.exit(2);
}

// The members of the interface declared in a .d.ts file, each with the file of its type when
// that is another interface (directly or as Array<...>), else null: {name: {file, array}}.
const declCache = new Map();
function declMembers(dts) {
  if (declCache.has(dts)) return declCache.get(dts);
  let members = null;
  if (existsSync(dts)) {
    const text = readFileSync(dts, "utf8");
    const imports = new Map();
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
      const from = m[2].startsWith(".")
        ? join(dirname(dts), m[2].replace(/\.js$/, ".d.ts"))
        : join(modules, `${m[2]}.d.ts`);
      imports.set(m[1], from);
    }
    const body = text.match(/^export interface \w+(?: extends \w+)? \{\n([\s\S]*?)^\}/m);
    if (body) {
      members = {};
      // a member is a line of four spaces and a quoted name; deeper lines belong to map types
      for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
        const t = m[2].replace(/;$/, "");
        const arr = t.match(/^Array<(\w+)>$/);
        const ref = arr ? arr[1] : t;
        members[m[1]] = { file: imports.get(ref) || null, array: Boolean(arr) };
      }
    }
  }
  declCache.set(dts, members);
  return members;
}

// The first member of obj (depth first) that the declarations do not list, as "PATH: 'NAME'".
function unknownMember(obj, dts, path) {
  const members = declMembers(dts);
  if (!members || obj === null || typeof obj !== "object" || Array.isArray(obj)) return null;
  for (const [k, v] of Object.entries(obj)) {
    if (!(k in members)) return `${path} has no member '${k}'`;
    const { file, array } = members[k];
    if (!file) continue;
    const items = array && Array.isArray(v) ? v.map((x, i) => [x, `${path}/${k}/${i}`]) : [[v, `${path}/${k}`]];
    for (const [x, p] of items) {
      const found = unknownMember(x, file, p);
      if (found) return found;
    }
  }
  return null;
}

let bad = 0;
for (const path of files) {
  const prefix = files.length > 1 ? `${basename(path)}: ` : "";
  const docs = JSON.parse(readFileSync(path, "utf8"));
  if (!Array.isArray(docs) || docs.length === 0) {
    console.error(`k8s_validate: '${path}': expected a non-empty JSON array of objects`);
    process.exit(2);
  }
  for (const doc of docs) {
    const kind = doc && typeof doc.kind === "string" ? doc.kind : "";
    const api = doc && typeof doc.apiVersion === "string" ? doc.apiVersion : "";
    const name = doc && doc.metadata && doc.metadata.name ? doc.metadata.name : "(no name)";
    // kubernetes-models lays out its classes as GROUP/VERSION/KIND.js ("v1/Pod.js" for the core).
    const file = join(pkg, ...api.split("/"), `${kind}.js`);
    if (!/^[A-Za-z0-9.\/]+$/.test(api) || !/^[A-Za-z0-9]+$/.test(kind) || !existsSync(file)) {
      console.log(`${prefix}invalid ${kind || "(no kind)"} ${name}: unknown apiVersion '${api}' or kind '${kind}'`);
      bad++;
      continue;
    }
    const Model = (await import(pathToFileURL(file).href))[kind];
    try {
      new Model(doc).validate();
      const unknown = unknownMember(doc, file.replace(/\.js$/, ".d.ts"), "data");
      if (unknown) throw new Error(unknown);
      console.log(`${prefix}ok ${kind} ${name}`);
    } catch (e) {
      console.log(`${prefix}invalid ${kind} ${name}: ${e.message.replace(/\n/g, "; ")}`);
      bad++;
    }
  }
}
process.exit(bad ? 1 : 0);
