// Runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU) on inputs
// from a JSON file and prints its outputs as JSON: an implementation of
// ONNX independent of pipe, which checks what `pipe export` writes.
//
//   node check.mjs MODEL.onnx REQUEST.json > OUTPUTS.json
//
// REQUEST.json: {"runs": [{"feeds": {NAME: {"type": "float32"|"int32"|"int64",
// "dims": [...], "data": [...]}}}, ...]}: each run is one call of the model.
// The output: {"inputs": [names], "outputs": [names], "runs": [{NAME:
// {"type", "dims", "data"}}, ...]}. Numbers are printed as JavaScript
// prints doubles, which round-trips every float32 exactly.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, request] = process.argv.slice(2);
if (!model || !request) {
  console.error('usage: node check.mjs MODEL.onnx REQUEST.json');
  process.exit(2);
}

const arrays = {
  float32: Float32Array,
  int32: Int32Array,
  int64: BigInt64Array,
};

function tensor(name, f) {
  const Array = arrays[f.type];
  if (!Array) throw new Error(`input ${name}: unknown type ${f.type}`);
  const data = f.type === 'int64' ? Array.from(f.data, (v) => BigInt(v)) : Array.from(f.data);
  return new ort.Tensor(f.type, data, f.dims);
}

function plain(t) {
  const data = t.type === 'int64' ? Array.from(t.data, (v) => Number(v)) : Array.from(t.data);
  return { type: t.type, dims: t.dims, data };
}

try {
  // One thread: the machines that run the checks have two cores, shared.
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const req = JSON.parse(readFileSync(request, 'utf8'));
  const runs = [];
  for (const [i, r] of req.runs.entries()) {
    const feeds = {};
    for (const [name, f] of Object.entries(r.feeds)) feeds[name] = tensor(name, f);
    let out;
    try {
      out = await session.run(feeds);
    } catch (e) {
      throw new Error(`run ${i}: ${e.message}`);
    }
    const res = {};
    for (const name of session.outputNames) res[name] = plain(out[name]);
    runs.push(res);
  }
  process.stdout.write(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames, runs }));
} catch (e) {
  console.error(`onnx-check: ${model}: ${e.message}`);
  process.exit(1);
}
