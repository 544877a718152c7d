// k8s_validate.mjs MANIFESTS.json...: validate Kubernetes objects against the API's schemas with
// the npm package kubernetes-models (its per-kind validators are generated from the Kubernetes
// OpenAPI documents: types, formats, enums, required members). Each MANIFESTS.json is a JSON
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
      console.log(`${prefix}ok ${kind} ${name}`);
    } catch (e) {
      console.log(`${prefix}invalid ${kind} ${name}: ${e.message.replace(/\n/g, "; ")}`);
      bad++;
    }
  }
}
process.exit(bad ? 1 : 0);
