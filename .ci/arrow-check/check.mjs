// Checks a pipe run directory's Arrow files with Apache Arrow's JavaScript
// implementation, independently of arrow-go that wrote them.
//
// usage: node check.mjs RUN_DIR
//
// RUN_DIR holds history.json, metrics.json, history.arrow and
// predictions.arrow. Checked:
//   history.arrow      columns epoch (int32) then one float64 column per
//                      series, in history.json's key order; one row per
//                      epoch; epochs 1..E; every value exactly history.json's
//   predictions.arrow  columns index (int64), label (float32), prediction
//                      (float32) and optionally probabilities
//                      (fixed_size_list<float32>); metrics.json's
//                      test_examples rows; index 0 first and N-1 last; finite
//                      labels and predictions; each probability row sums to 1
//                      (within 1e-4) and prediction is its argmax
// Exits 1 listing every mismatch found, 2 on bad usage or unreadable input,
// and prints one OK line otherwise.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC, Type, Precision } from "apache-arrow";

const MAX_REPORTED = 20;
const SUM_TOLERANCE = 1e-4;

const dir = process.argv[2];
if (!dir || process.argv.length !== 3) {
  console.error("usage: node check.mjs RUN_DIR");
  process.exit(2);
}

const problems = [];
function problem(msg) {
  problems.push(msg);
}

function fail(msg) {
  console.error(`arrow-check: ${dir}: ${msg}`);
  process.exit(2);
}

function readJSON(name) {
  try {
    return JSON.parse(readFileSync(join(dir, name), "utf8"));
  } catch (e) {
    fail(`${name}: ${e.message}`);
  }
}

function readArrow(name) {
  let bytes;
  try {
    bytes = readFileSync(join(dir, name));
  } catch (e) {
    fail(`${name}: ${e.message}`);
  }
  // The IPC file format starts and ends with ARROW1; tableFromIPC would
  // also accept the stream format, which pipe does not write.
  if (bytes.length < 12 || bytes.subarray(0, 6).toString("latin1") !== "ARROW1" ||
      bytes.subarray(bytes.length - 6).toString("latin1") !== "ARROW1") {
    fail(`${name}: not an Arrow IPC file (no ARROW1 magic at both ends)`);
  }
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    fail(`${name}: apache-arrow cannot read it: ${e.message}`);
  }
}

const isInt = (t, bits, signed = true) => t.typeId === Type.Int && t.bitWidth === bits && t.isSigned === signed;
const isFloat = (t, precision) => t.typeId === Type.Float && t.precision === precision;

function checkColumns(file, table, want) {
  const got = table.schema.fields.map((f) => f.name);
  if (got.length !== want.length || got.some((n, i) => n !== want[i].name)) {
    problem(`${file}: columns [${got.join(", ")}]; want [${want.map((w) => w.name).join(", ")}]`);
    return false;
  }
  let ok = true;
  table.schema.fields.forEach((f, i) => {
    if (!want[i].type(f.type)) {
      problem(`${file}: column ${f.name} has type ${f.type}; want ${want[i].typeName}`);
      ok = false;
    }
  });
  return ok;
}

// --- history ---------------------------------------------------------------

function checkHistory() {
  const json = readJSON("history.json");
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail("history.json: not an object of series");
  }
  const names = Object.keys(json);
  const epochs = names.length ? json[names[0]].length : 0;
  for (const n of names) {
    if (!Array.isArray(json[n]) || json[n].length !== epochs) {
      problem(`history.json: series ${n} has ${json[n]?.length} values; ${names[0]} has ${epochs}`);
    }
  }
  const table = readArrow("history.arrow");
  const want = [{ name: "epoch", type: (t) => isInt(t, 32), typeName: "int32" }].concat(
    names.map((name) => ({ name, type: (t) => isFloat(t, Precision.DOUBLE), typeName: "float64" })));
  const columnsOK = checkColumns("history.arrow", table, want);
  if (table.numRows !== epochs) {
    problem(`history.arrow: ${table.numRows} rows; history.json has ${epochs} epochs`);
  }
  if (!columnsOK || table.numRows !== epochs) {
    return epochs;
  }
  const epoch = table.getChild("epoch").toArray();
  for (let i = 0; i < epochs; i++) {
    if (epoch[i] !== i + 1) {
      problem(`history.arrow: row ${i} has epoch ${epoch[i]}; want ${i + 1}`);
    }
  }
  for (const name of names) {
    const col = table.getChild(name).toArray();
    for (let i = 0; i < epochs; i++) {
      // Go writes float64 to JSON in the shortest form that round-trips,
      // so the parsed number is the very same double: compare exactly.
      if (!Object.is(col[i], json[name][i])) {
        problem(`history.arrow: ${name} at epoch ${i + 1} is ${col[i]}; history.json has ${json[name][i]}`);
      }
    }
  }
  return epochs;
}

// --- predictions -----------------------------------------------------------

function checkPredictions() {
  const metrics = readJSON("metrics.json");
  const n = metrics?.test_examples;
  if (!Number.isSafeInteger(n) || n < 0) {
    fail(`metrics.json: test_examples is ${JSON.stringify(n)}; want a count of examples`);
  }
  const table = readArrow("predictions.arrow");
  const want = [
    { name: "index", type: (t) => isInt(t, 64), typeName: "int64" },
    { name: "label", type: (t) => isFloat(t, Precision.SINGLE), typeName: "float32" },
    { name: "prediction", type: (t) => isFloat(t, Precision.SINGLE), typeName: "float32" },
  ];
  const hasProbs = table.schema.fields.length === 4;
  if (hasProbs) {
    want.push({
      name: "probabilities",
      type: (t) => t.typeId === Type.FixedSizeList && t.listSize > 0 && isFloat(t.children[0].type, Precision.SINGLE),
      typeName: "fixed_size_list<float32>",
    });
  }
  if (!checkColumns("predictions.arrow", table, want)) {
    return { n, classes: 0 };
  }
  if (table.numRows !== n) {
    problem(`predictions.arrow: ${table.numRows} rows; metrics.json has test_examples ${n}`);
    return { n, classes: 0 };
  }
  if (n > 0) {
    const index = table.getChild("index");
    if (index.get(0) !== 0n || index.get(n - 1) !== BigInt(n - 1)) {
      problem(`predictions.arrow: index runs ${index.get(0)}..${index.get(n - 1)}; want 0..${n - 1}`);
    }
  }
  const label = table.getChild("label").toArray();
  const prediction = table.getChild("prediction").toArray();
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(label[i])) {
      problem(`predictions.arrow: row ${i} has label ${label[i]}`);
    }
    if (!Number.isFinite(prediction[i])) {
      problem(`predictions.arrow: row ${i} has prediction ${prediction[i]}`);
    }
  }
  let classes = 0;
  if (hasProbs) {
    const probs = table.getChild("probabilities");
    classes = probs.type.listSize;
    for (let i = 0; i < n && problems.length < MAX_REPORTED; i++) {
      const p = probs.get(i).toArray();
      let sum = 0;
      let max = -Infinity;
      for (const v of p) {
        if (!Number.isFinite(v) || v < 0) {
          problem(`predictions.arrow: row ${i} has probability ${v}`);
        }
        sum += v;
        max = Math.max(max, v);
      }
      if (!(Math.abs(sum - 1) <= SUM_TOLERANCE)) {
        problem(`predictions.arrow: row ${i}'s probabilities sum to ${sum}`);
      }
      // Ties: any class holding the maximum is an argmax.
      const k = prediction[i];
      if (!Number.isInteger(k) || k < 0 || k >= classes || p[k] !== max) {
        problem(`predictions.arrow: row ${i} predicts ${k}, but the most probable class has probability ${max} (prediction's: ${p[k]})`);
      }
    }
  }
  return { n, classes };
}

const epochs = checkHistory();
const { n, classes } = checkPredictions();
if (problems.length > 0) {
  console.error(`arrow-check: ${dir}: ${problems.length} problem(s):`);
  for (const p of problems.slice(0, MAX_REPORTED)) {
    console.error(`  ${p}`);
  }
  if (problems.length > MAX_REPORTED) {
    console.error(`  ... and ${problems.length - MAX_REPORTED} more`);
  }
  process.exit(1);
}
console.log(`arrow-check OK: ${dir}: history ${epochs} epochs, predictions ${n} rows` +
  (classes ? `, ${classes} class probabilities` : ""));
