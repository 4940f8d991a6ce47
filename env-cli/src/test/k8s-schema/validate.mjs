// Checks a batch/v1 Job (JSON, argv[2]) against the Kubernetes OpenAPI schema, as kubernetes-models compiles it
// (types, required fields, enums, formats, int-or-string), and strictly: every field must be one the schema's type
// declares (the OpenAPI leaves additionalProperties open; the API server's strict field validation does not, and a
// misspelt field would be dropped silently). The declared fields come from the package's TypeScript declarations,
// generated from the same schema. Prints one error per line; exits 1 when there is any.
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Job } from "kubernetes-models/batch/v1/Job";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const errors = [];

try {
  new Job(job).validate();
} catch (e) {
  for (const x of e.errors ?? [e]) {
    errors.push(`schema: ${x.instancePath ?? ""} ${x.message ?? String(x)} ${x.params ? JSON.stringify(x.params) : ""}`);
  }
}

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve("kubernetes-models/package.json"));
const modules = path.dirname(root);
const cache = new Map();

/** The declared properties of the interface in a .d.ts: name -> {type, from}. */
function declared(file) {
  if (cache.has(file)) return cache.get(file);
  const text = readFileSync(file, "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "");
  const imports = new Map();
  for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of m[1].split(",").map((s) => s.trim())) imports.set(name, resolve(file, m[2]));
  }
  const body = text.match(/export interface I\w+(?: extends [\w, ]+)? \{([\s\S]*?)\n\}/);
  let props = null;
  if (body) {
    props = new Map();
    for (const m of body[1].matchAll(/"([^"]+)"\??: ([^;]+);/g)) props.set(m[1], { type: m[2], imports });
  }
  cache.set(file, props);
  return props;
}

function resolve(from, spec) {
  const base = spec.startsWith(".") ? path.resolve(path.dirname(from), spec) : path.join(modules, spec);
  const candidate = base.replace(/\.js$/, "") + ".d.ts";
  return existsSync(candidate) ? candidate : null;
}

/** Walks value against a type expression of a declaration. */
function walk(value, type, imports, at) {
  if (value === null || typeof value !== "object") return;
  let m;
  if ((m = type.match(/^Array<(\w+)>$/))) {
    value.forEach((v, i) => walk(v, m[1], imports, `${at}/${i}`));
  } else if ((m = type.match(/^\{\s*\[key: string\]: (\w+);?\s*\}$/))) {
    for (const [k, v] of Object.entries(value)) walk(v, m[1], imports, `${at}/${k}`);
  } else if (imports.has(type) && imports.get(type)) {
    check(value, imports.get(type), at);
  }
}

function check(obj, file, at) {
  const props = declared(file);
  if (!props) return; // an alias (Quantity, IntOrString, ...): the compiled schema checked it
  for (const [k, v] of Object.entries(obj)) {
    const p = props.get(k);
    if (!p) {
      errors.push(`strict: ${at}/${k}: not a field of ${path.basename(file, ".d.ts")}`);
      continue;
    }
    walk(v, p.type.trim(), p.imports, `${at}/${k}`);
  }
}

check(job, path.join(root, "batch/v1/Job.d.ts"), "");
for (const e of errors) console.log(e);
process.exit(errors.length ? 1 : 0);
