import { DDIMScheduler, Generator } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const bytes = new Uint8Array(readFileSync('/tmp/ortexp/mlp.onnx'));
const SHAPE=[1,4,32,32]; const N=4096;
const backend = onnxruntimeNode({ sessionOptions: { intraOpNumThreads: 1 } });
const model = await backend.loadModel(bytes);
const session = model.session;
const noise = new Generator(42).randnValues(N);
const cfg = { betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, clipSample: false, setAlphaToOne: false, stepsOffset: 1 };
const sch0 = new DDIMScheduler(cfg); sch0.setTimesteps(20);
const coef = sch0.timesteps.map((t) => { const a = sch0.alphaAt(t), ap = sch0.alphaAt(sch0.previousTimestep(t)); const x0x = 1/Math.sqrt(a), x0e = -Math.sqrt(1-a)/Math.sqrt(a); return { t, x0x, x0e, px: Math.sqrt(ap)*x0x, pe: Math.sqrt(ap)*x0e + Math.sqrt(1-ap) }; });
async function runOurs(x, t) { const { out_sample } = await model.run({ sample: x, timestep: { dtype: 'int64', data: BigInt64Array.of(BigInt(t)), shape: [1] } }); return out_sample; }
async function runBare(xv, t) { const o = await session.run({ sample: new ort.Tensor('float32', xv, SHAPE), timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1]) }); return o.out_sample.data; }
const variants = {
  ours: async () => { const s = new DDIMScheduler(cfg); s.setTimesteps(20); let x = backend.tensors.fromData(noise, SHAPE); for (const t of s.timesteps) { const e = await runOurs(x, t); const r = s.step(e, t, x); x.dispose(); e.dispose(); r.predOriginalSample.dispose(); x = r.prevSample; } },
  bare: async () => { let x = Float32Array.from(noise); for (const { t, x0x, x0e, px, pe } of coef) { const e = await runBare(x, t); const a = new Float32Array(N), b = new Float32Array(N); for (let i=0;i<N;i++) a[i]=x0x*x[i]+x0e*e[i]; for (let i=0;i<N;i++) b[i]=px*x[i]+pe*e[i]; x = b; } },
  oursRunBareMath: async () => { let x = backend.tensors.fromData(noise, SHAPE); for (const { t, x0x, x0e, px, pe } of coef) { const ev = await (await runOurs(x, t)).data(); const xv = await x.data(); const a = new Float32Array(N), b = new Float32Array(N); for (let i=0;i<N;i++) a[i]=x0x*xv[i]+x0e*ev[i]; for (let i=0;i<N;i++) b[i]=px*xv[i]+pe*ev[i]; x = backend.tensors.fromData(b, SHAPE); } },
  bareRunOurMath: async () => { const s = new DDIMScheduler(cfg); s.setTimesteps(20); let x = backend.tensors.fromData(noise, SHAPE); for (const t of s.timesteps) { const ev = await runBare(x.values, t); const e = backend.tensors.fromData(ev, SHAPE); const r = s.step(e, t, x); x = r.prevSample; } },
};
const res = Object.fromEntries(Object.keys(variants).map(k => [k, []]));
for (let w=0; w<2; w++) for (const f of Object.values(variants)) await f();
for (let rep=0; rep<30; rep++) { const keys = Object.keys(variants); if (rep%2) keys.reverse(); for (const k of keys) { const c0=process.cpuUsage(); await variants[k](); const c=process.cpuUsage(c0); res[k].push((c.user+c.system)/1000); } }
const med=(v)=>{v=[...v].sort((p,q)=>p-q);return v[v.length>>1]};
for (const [k,v] of Object.entries(res)) console.log(k.padEnd(16), med(v).toFixed(2), 'ms cpu');
