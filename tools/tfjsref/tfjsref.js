// tfjsref runs a TF.js graph model on TF.js's pure-JS CPU backend and writes
// one named output as raw little-endian float32. FaceGate's converter test uses
// it as the reference the converted ONNX model must match.
//
// Usage: node tfjsref.js MODEL_JSON INPUT_F32 H W OUTPUT_NODE OUT_F32
//
// INPUT_F32 holds 1*H*W*3 float32 values in NHWC order, exactly as the model's
// input placeholder receives them (no scaling is applied here).
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');

function fail(msg) {
  process.stderr.write(`tfjsref: ${msg}\n`);
  process.exit(2);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 6) fail('usage: node tfjsref.js MODEL_JSON INPUT_F32 H W OUTPUT_NODE OUT_F32');
  const [modelPath, inputPath, hs, ws, outputNode, outPath] = args;
  const h = Number(hs);
  const w = Number(ws);
  if (!(h > 0 && w > 0)) fail(`bad size ${hs}x${ws}`);

  await tf.setBackend('cpu');
  await tf.ready();

  const mj = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const dir = path.dirname(modelPath);
  const specs = [];
  const bufs = [];
  for (const group of mj.weightsManifest) {
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await converter.loadGraphModel(tf.io.fromMemory({
    modelTopology: mj.modelTopology,
    weightSpecs: specs,
    weightData,
    format: mj.format,
    generatedBy: mj.generatedBy,
    convertedBy: mj.convertedBy,
    userDefinedMetadata: mj.userDefinedMetadata,
  }));

  const raw = fs.readFileSync(inputPath);
  const n = h * w * 3;
  if (raw.length !== 4 * n) fail(`input ${inputPath} has ${raw.length} bytes, want ${4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = raw.readFloatLE(4 * i);
  const x = tf.tensor4d(data, [1, h, w, 3], 'float32');
  const y = await model.executeAsync(x, outputNode);
  const out = await y.data();
  const b = Buffer.alloc(4 * out.length);
  for (let i = 0; i < out.length; i++) b.writeFloatLE(out[i], 4 * i);
  fs.writeFileSync(outPath, b);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
