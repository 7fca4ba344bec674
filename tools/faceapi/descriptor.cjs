// descriptor.cjs prints the 128-d face descriptor that face-api's own
// FaceRecognitionNet computes for raw 150x150 RGB chips (67,500 bytes each,
// row-major R G B), one line of 128 numbers per chip. It is the reference
// side of tools/dlibconv's conversion test.
//
// Usage: node descriptor.cjs <chip.raw>...
//
// The package's browser bundle (dist/face-api.js, TF.js included) runs in a
// separate VM context that has no Node globals, so TF.js takes its pure-JS
// CPU backend and nothing native is loaded or downloaded. The network is
// face-api's as shipped: it scales input by 1/255 where dlib uses 1/256.
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const pkg = path.join(__dirname, 'node_modules', '@vladmandic', 'face-api');
const chipSide = 150;

function fail(msg) {
  process.stderr.write(`faceapi: ${msg}\n`);
  process.exit(1);
}

async function main(chips) {
  if (chips.length === 0) {
    process.stderr.write('usage: node descriptor.cjs <chip.raw>...\n');
    process.exit(2);
  }
  const bundle = path.join(pkg, 'dist', 'face-api.js');
  if (!fs.existsSync(bundle)) fail(`${bundle} is missing: run npm ci in ${__dirname} (make setup does)`);

  const sandbox = { console, setTimeout, clearTimeout, TextEncoder, TextDecoder, performance };
  sandbox.globalThis = sandbox;
  sandbox.self = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(bundle, 'utf8'), sandbox, { filename: bundle });
  const { faceapi } = sandbox;
  const { tf } = faceapi;
  // Typed arrays must come from the sandbox's realm for TF.js's checks.
  const U8 = vm.runInContext('Uint8Array', sandbox);
  const bytes = (file) => {
    const b = fs.readFileSync(file);
    const out = new U8(b.length);
    out.set(b);
    return out;
  };

  // With no browser and no Node globals TF.js sets no platform; give it a
  // minimal one (no fetch: nothing is downloaded).
  tf.setPlatform('facegate', vm.runInContext(`({
    fetch() { throw new Error('fetch is disabled'); },
    now() { return performance.now(); },
    encode(s) { return new TextEncoder().encode(s); },
    decode(b, enc) { return new TextDecoder(enc).decode(b); },
    isTypedArray(a) { return a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray; },
  })`, sandbox));
  // face-api wants a DOM-like environment only to recognise media elements;
  // the input here is always a tensor.
  faceapi.env.setEnv(vm.runInContext(`({
    Canvas: class Canvas {}, CanvasRenderingContext2D: class CanvasRenderingContext2D {},
    Image: class Image {}, ImageData: class ImageData {}, Video: class Video {},
    createCanvasElement() { throw new Error('no canvas'); },
    createImageElement() { throw new Error('no image element'); },
    fetch() { throw new Error('fetch is disabled'); },
    readFile() { throw new Error('readFile is disabled'); },
  })`, sandbox));
  if (!(await tf.setBackend('cpu'))) fail('TF.js CPU backend did not start');
  await tf.ready();

  const manifestPath = path.join(pkg, 'model', 'face_recognition_model-weights_manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const shards = [];
  const specs = [];
  for (const group of manifest) {
    for (const p of group.paths) shards.push(bytes(path.join(pkg, 'model', p)));
    specs.push(...group.weights);
  }
  const total = shards.reduce((n, s) => n + s.length, 0);
  const all = new U8(total);
  let off = 0;
  for (const s of shards) {
    all.set(s, off);
    off += s.length;
  }
  const weightMap = tf.io.decodeWeights(all.buffer, vm.runInContext(`(${JSON.stringify(specs)})`, sandbox));
  const net = faceapi.nets.faceRecognitionNet;
  net.loadFromWeightMap(weightMap);

  for (const chip of chips) {
    const raw = bytes(chip);
    if (raw.length !== chipSide * chipSide * 3) fail(`${chip}: ${raw.length} bytes, want a 150x150 RGB chip of 67500 bytes`);
    const input = tf.tensor3d(raw, [chipSide, chipSide, 3], 'int32');
    const d = await net.computeFaceDescriptor(input);
    input.dispose();
    if (!d || d.length !== 128) fail(`${chip}: descriptor has ${d ? d.length : 0} values, want 128`);
    process.stdout.write(Array.from(d, (v) => v.toPrecision(9)).join(' ') + '\n');
  }
}

main(process.argv.slice(2)).catch((e) => fail(e && e.stack ? e.stack.split('\n')[0] : String(e)));
