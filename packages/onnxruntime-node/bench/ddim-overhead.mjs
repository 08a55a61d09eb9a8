/**
 * What the adapter costs in a sampling loop: a 20-step DDIM loop through our API
 * (Model.run + DDIMScheduler.step on core tensors) against a bare loop of
 * session.run plus the same DDIM arithmetic on Float32Arrays, on one MLP
 * denoiser of a few million parameters. Repetitions are interleaved (and their
 * order alternated) so drift in machine speed hits both sides alike.
 *
 * Both loops call the same onnxruntime session (the bare one reaches it through
 * `model.session`). It runs single-threaded by default, which keeps timings
 * steady on a shared machine (--threads 0 gives onnxruntime's default pool).
 * Wall and CPU time are both reported: on a busy machine CPU time is the
 * steadier of the two.
 *
 * A second measurement isolates the adapter's fixed cost per call: Model.run
 * against session.run on a model that does almost nothing, in interleaved
 * blocks of calls.
 *
 *   npm run bench [-- --reps 25 --hidden 640 --threads 1]
 */
import { DDIMScheduler, Generator } from '@noiserefine/core';
import { encodeModel, onnx } from '@noiserefine/onnx';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import * as ort from 'onnxruntime-node';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i].replace(/^--/, ''), Number(process.argv[i + 1]));
const REPS = args.get('reps') ?? 25;
const WARMUP = 3;
const STEPS = 20;
const HIDDEN = args.get('hidden') ?? 640;
const THREADS = args.get('threads') ?? 1;
const SESSION_OPTIONS = THREADS > 0 ? { intraOpNumThreads: THREADS, interOpNumThreads: 1 } : {};
const SHAPE = [1, 4, 32, 32];
const FEATURES = SHAPE.reduce((a, b) => a * b, 1);
const SCHEDULER_CONFIG = {
  betaSchedule: 'scaled_linear',
  betaStart: 0.00085,
  betaEnd: 0.012,
  clipSample: false,
  setAlphaToOne: false,
  stepsOffset: 1,
};

/** An MLP denoiser: flatten → linear → +timestep embedding → relu → linear → relu → linear → reshape. */
function mlpDenoiser() {
  const T = onnx.TensorProto.DataType;
  const generator = new Generator(0);
  let parameters = 0;
  const weights = (name, dims, scale) => {
    const size = dims.reduce((a, b) => a * b, 1);
    parameters += size;
    const values = generator.randnValues(size).map((v) => v * scale);
    return { name, dataType: T.FLOAT, dims, rawData: new Uint8Array(values.buffer) };
  };
  const info = (name, elemType, dims) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const gemm = (x, w, b, y) => ({ opType: 'Gemm', input: [x, w, b], output: [y] });
  const initializer = [
    weights('w1', [FEATURES, HIDDEN], 1 / Math.sqrt(FEATURES)),
    weights('b1', [HIDDEN], 0.01),
    weights('wt', [HIDDEN], 0.001),
    weights('w2', [HIDDEN, HIDDEN], 1 / Math.sqrt(HIDDEN)),
    weights('b2', [HIDDEN], 0.01),
    weights('w3', [HIDDEN, FEATURES], 1 / Math.sqrt(HIDDEN)),
    weights('b3', [FEATURES], 0.01),
    { name: 'flat', dataType: T.INT64, dims: [2], int64Data: [1, FEATURES] },
    { name: 'shape', dataType: T.INT64, dims: [4], int64Data: SHAPE },
  ];
  const bytes = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'mlp-denoiser',
      node: [
        { opType: 'Reshape', input: ['sample', 'flat'], output: ['x'] },
        gemm('x', 'w1', 'b1', 'h1'),
        {
          opType: 'Cast',
          input: ['timestep'],
          output: ['tf'],
          attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }],
        },
        { opType: 'Mul', input: ['tf', 'wt'], output: ['temb'] },
        { opType: 'Add', input: ['h1', 'temb'], output: ['h2'] },
        { opType: 'Relu', input: ['h2'], output: ['h3'] },
        gemm('h3', 'w2', 'b2', 'h4'),
        { opType: 'Relu', input: ['h4'], output: ['h5'] },
        gemm('h5', 'w3', 'b3', 'h6'),
        { opType: 'Reshape', input: ['h6', 'shape'], output: ['out_sample'] },
      ],
      input: [info('sample', T.FLOAT, SHAPE), info('timestep', T.INT64, [1])],
      output: [info('out_sample', T.FLOAT, SHAPE)],
      initializer,
    },
  });
  return { bytes, parameters };
}

/** Almost no work (out = sample · float(timestep) · 1e-4): what remains is the cost of a call. */
function trivialModel() {
  const T = onnx.TensorProto.DataType;
  const info = (name, elemType, dims) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'trivial',
      node: [
        {
          opType: 'Cast',
          input: ['timestep'],
          output: ['tf'],
          attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }],
        },
        { opType: 'Mul', input: ['sample', 'tf'], output: ['scaled'] },
        { opType: 'Mul', input: ['scaled', 'k'], output: ['out_sample'] },
      ],
      input: [info('sample', T.FLOAT, SHAPE), info('timestep', T.INT64, [1])],
      output: [info('out_sample', T.FLOAT, SHAPE)],
      initializer: [{ name: 'k', dataType: T.FLOAT, dims: [1], floatData: [1e-4] }],
    },
  });
}

const noise = new Generator(42).randnValues(FEATURES);

// Each side builds its scheduler once (its alphas table costs about a millisecond, as a pipeline
// pays once) and sets the timesteps for every loop, as a pipeline does per generation.
async function ourLoop(backend, model, scheduler) {
  scheduler.setTimesteps(STEPS);
  let latent = backend.tensors.fromData(noise, SHAPE);
  for (const t of scheduler.timesteps) {
    const timestep = { dtype: 'int64', data: BigInt64Array.of(BigInt(t)), shape: [1] };
    const { out_sample: eps } = await model.run({ sample: latent, timestep });
    const { prevSample, predOriginalSample } = scheduler.step(eps, t, latent);
    latent.dispose();
    eps.dispose();
    predOriginalSample.dispose();
    latent = prevSample;
  }
  return latent.data();
}

/** The same loop by hand: DDIM's two fused passes (x0, then x_prev) per step, coefficients from the same alphas. */
function bareCoefficients(scheduler) {
  scheduler.setTimesteps(STEPS);
  const f = Math.fround;
  return scheduler.timesteps.map((t) => {
    const a = scheduler.alphaAt(t);
    const aPrev = scheduler.alphaAt(scheduler.previousTimestep(t));
    const sqrtA = f(Math.sqrt(a));
    const sqrt1mA = f(Math.sqrt(f(1 - a)));
    const x0x = f(1 / sqrtA);
    const x0e = f(-sqrt1mA / sqrtA);
    const sqrtAPrev = f(Math.sqrt(aPrev));
    const dir = f(Math.sqrt(f(1 - aPrev)));
    return { t, x0x, x0e, px: sqrtAPrev * x0x, pe: sqrtAPrev * x0e + dir };
  });
}

async function bareLoop(session, scheduler) {
  let x = Float32Array.from(noise);
  for (const { t, x0x, x0e, px, pe } of bareCoefficients(scheduler)) {
    const out = await session.run({
      sample: new ort.Tensor('float32', x, SHAPE),
      timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1]),
    });
    const eps = out.out_sample.data;
    const x0 = new Float32Array(x.length);
    const next = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) x0[i] = x0x * x[i] + x0e * eps[i];
    for (let i = 0; i < x.length; i++) next[i] = px * x[i] + pe * eps[i];
    x = next;
  }
  return x;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Wall-clock and CPU milliseconds of one loop. CPU time is what the loop itself used: on a
 * shared machine it does not grow while the process waits for a core. */
async function measure(fn) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const latent = await fn();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, latent };
}

const { bytes, parameters } = mlpDenoiser();
const backend = onnxruntimeNode({ sessionOptions: SESSION_OPTIONS });
const model = await backend.loadModel(bytes);
// The bare loop calls the very session under our model: same weights in memory, same thread pool.
const session = model.session;
const ourScheduler = new DDIMScheduler(SCHEDULER_CONFIG);
const bareScheduler = new DDIMScheduler(SCHEDULER_CONFIG);
const loops = {
  ours: () => ourLoop(backend, model, ourScheduler),
  bare: () => bareLoop(session, bareScheduler),
};

for (let i = 0; i < WARMUP; i++) {
  await loops.ours();
  await loops.bare();
}
const times = { ours: { wall: [], cpu: [] }, bare: { wall: [], cpu: [] } };
let maxDiff = 0;
for (let rep = 0; rep < REPS; rep++) {
  const finals = {};
  for (const side of rep % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
    const { wall, cpu, latent } = await measure(loops[side]);
    times[side].wall.push(wall);
    times[side].cpu.push(cpu);
    finals[side] = latent;
  }
  for (let i = 0; i < FEATURES; i++) maxDiff = Math.max(maxDiff, Math.abs(finals.ours[i] - finals.bare[i]));
}
await backend.dispose();

/** CPU microseconds per call of Model.run and of session.run on the trivial model, interleaved in blocks. */
async function callCost() {
  const callBackend = onnxruntimeNode({ sessionOptions: SESSION_OPTIONS });
  const callModel = await callBackend.loadModel(trivialModel());
  const callSession = callModel.session;
  const latent = callBackend.tensors.fromData(noise, SHAPE);
  const calls = {
    ours: () =>
      callModel.run({
        sample: latent,
        timestep: { dtype: 'int64', data: BigInt64Array.of(500n), shape: [1] },
      }),
    bare: () =>
      callSession.run({
        sample: new ort.Tensor('float32', noise, SHAPE),
        timestep: new ort.Tensor('int64', BigInt64Array.of(500n), [1]),
      }),
  };
  const perCall = { ours: [], bare: [] };
  for (let block = 0; block < 2 + REPS; block++) {
    for (const side of block % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < 500; i++) await calls[side]();
      const cpu = process.cpuUsage(cpu0);
      if (block >= 2) perCall[side].push((cpu.user + cpu.system) / 500);
    }
  }
  await callBackend.dispose();
  return { ours: median(perCall.ours), bare: median(perCall.bare) };
}
const call = await callCost();

const pct = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`;
function report(kind) {
  const ours = times.ours[kind];
  const bare = times.bare[kind];
  const mOurs = median(ours);
  const mBare = median(bare);
  // Each repetition runs both loops back to back: their ratio cancels slow drift of the machine.
  const paired = (median(ours.map((o, i) => o / bare[i])) - 1) * 100;
  const perStep = (ms) => `${ms.toFixed(2)} ms (${(ms / STEPS).toFixed(3)} ms/step)`;
  console.log(
    `${kind.padEnd(4)}  bare ${perStep(mBare)}  ours ${perStep(mOurs)}  overhead ${pct(((mOurs - mBare) / mBare) * 100)} of medians, ${pct(paired)} median paired`,
  );
}

console.log(
  `model: MLP denoiser ${FEATURES}→${HIDDEN}→${HIDDEN}→${FEATURES}, ${(parameters / 1e6).toFixed(2)} M parameters (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB), latent ${SHAPE.join('×')}`,
);
console.log(
  `loop: ${STEPS}-step DDIM, ${REPS} interleaved repetitions after ${WARMUP} warm-up each, onnxruntime-node CPU, ${THREADS > 0 ? `${THREADS} intra-op thread(s)` : 'default threads'}`,
);
console.log(
  'bare = session.run + DDIM on Float32Arrays; ours = Model.run + DDIMScheduler.step on core tensors',
);
report('wall');
report('cpu');
console.log(`target: overhead ≤ 3%; max |Δ| of the two loops' final latents ${maxDiff.toExponential(2)}`);
const fixed = call.ours - call.bare;
console.log(
  `fixed cost per call (trivial model, CPU): session.run ${call.bare.toFixed(1)} µs, Model.run ${call.ours.toFixed(1)} µs: +${fixed.toFixed(1)} µs, ${((fixed / 1000 / (median(times.bare.cpu) / STEPS)) * 100).toFixed(2)}% of one step of this denoiser`,
);
