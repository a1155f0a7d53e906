// tests/deploy/validate_k8s.js FILE... — validates Kubernetes manifests
// against the official OpenAPI schemas (the npm package kubernetes-models,
// whose validators are generated from them), strictly: besides types,
// required fields and formats, every field must be one the schema knows
// (as `kubectl apply` with strict field validation, the default since
// Kubernetes 1.27). kubernetes-models' own validate() lets unknown fields
// through, so each field is probed: its value is replaced by one of the
// wrong type, and a field the schema constrains must then fail at its own
// path; one that does not is unknown. Prints one line per document;
// exits 1 when any is invalid.
"use strict";
const fs = require("fs");
const YAML = require("yaml");

function modelOf(doc) {
  if (!doc || typeof doc.apiVersion !== "string" || typeof doc.kind !== "string")
    throw new Error("not a Kubernetes object (apiVersion and kind)");
  const parts = doc.apiVersion.split("/");
  const mod = parts.length === 2 ? `kubernetes-models/${parts[0]}/${parts[1]}`
                                 : `kubernetes-models/${parts[0]}`;
  let m;
  try { m = require(mod); } catch (e) { throw new Error(`unknown apiVersion ${doc.apiVersion}`); }
  if (typeof m[doc.kind] !== "function")
    throw new Error(`unknown kind ${doc.kind} in ${doc.apiVersion}`);
  return m[doc.kind];
}

function errorsOf(Model, doc) {
  try {
    new Model(doc).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    return e.errors;
  }
}

const ptr = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");

// Every object key path in v: [pointer, parent, key].
function paths(v, base, out) {
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, `${base}/${i}`, out));
  else if (v && typeof v === "object")
    for (const k of Object.keys(v)) {
      out.push([`${base}/${ptr(k)}`, v, k]);
      paths(v[k], `${base}/${ptr(k)}`, out);
    }
  return out;
}

function unknownFields(Model, doc) {
  const bad = [];
  for (const [p, parent, key] of paths(doc, "", [])) {
    if (p === "/apiVersion" || p === "/kind") continue;
    const saved = parent[key];
    parent[key] = typeof saved === "boolean" ? { probe: 1 } : true;
    const hit = errorsOf(Model, doc).some((e) => e.instancePath === p || e.instancePath.startsWith(p + "/"));
    parent[key] = saved;
    if (!hit) bad.push(p);
  }
  // Only the outermost unknown field of a subtree is worth naming.
  return bad.filter((p) => !bad.some((q) => q !== p && p.startsWith(q + "/")));
}

let failed = 0, count = 0;
for (const file of process.argv.slice(2)) {
  let docs;
  try {
    docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`FAIL ${file}: ${e.message}`);
    failed++;
    continue;
  }
  docs.forEach((d, i) => {
    const where = `${file}#${i}`;
    if (d.errors.length) {
      console.log(`FAIL ${where}: YAML: ${d.errors[0].message}`);
      failed++;
      return;
    }
    const doc = d.toJS();
    if (doc === null) return;
    count++;
    try {
      const Model = modelOf(doc);
      const errs = errorsOf(Model, doc);
      const unknown = errs.length ? [] : unknownFields(Model, doc);
      const name = `${doc.kind} ${doc.metadata && doc.metadata.name}`;
      if (errs.length) {
        console.log(`FAIL ${where} ${name}: ` + errs.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; "));
        failed++;
      } else if (unknown.length) {
        console.log(`FAIL ${where} ${name}: unknown field ${unknown.join(", ")}`);
        failed++;
      } else {
        console.log(`ok   ${where} ${name}`);
      }
    } catch (e) {
      console.log(`FAIL ${where}: ${e.message}`);
      failed++;
    }
  });
}
if (count === 0) {
  console.log("FAIL no Kubernetes objects found");
  failed++;
}
process.exit(failed ? 1 : 0);
