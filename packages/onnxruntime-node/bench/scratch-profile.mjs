import { DDIMScheduler, Generator, validateFeeds } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const bytes = new Uint8Array(readFileSync('/tmp/ortexp/mlp.onnx'));
const SHAPE=[1,4,32,32];
const backend = onnxruntimeNode({ sessionOptions: { intraOpNumThreads: 1 } });
const model = await backend.loadModel(bytes);
const session = model.session;
const noise = new Generator(1).randnValues(4096);
const x = backend.tensors.fromData(noise, SHAPE);
const cpu = async (fn, n) => { const c0 = process.cpuUsage(); for (let i=0;i<n;i++) await fn(); const c = process.cpuUsage(c0); return ((c.user+c.system)/n).toFixed(1)+'us'; };
const ts = () => ({ dtype: 'int64', data: BigInt64Array.of(500n), shape: [1] });
for (let k=0;k<3;k++){
console.log('model.run', await cpu(() => model.run({sample:x, timestep: ts()}), 300),
 'session.run', await cpu(() => session.run({sample:new ort.Tensor('float32', noise, SHAPE), timestep:new ort.Tensor('int64', BigInt64Array.of(500n),[1])}), 300),
 'session.run+fetches', await cpu(() => session.run({sample:new ort.Tensor('float32', noise, SHAPE), timestep:new ort.Tensor('int64', BigInt64Array.of(500n),[1])}, ['out_sample']), 300));
}
console.log('validateFeeds', await cpu(() => validateFeeds(model.inputs, {sample:x, timestep: ts()}), 5000));
const sch = new DDIMScheduler({clipSample:false}); sch.setTimesteps(20);
const eps = backend.tensors.fromData(noise, SHAPE);
console.log('scheduler.step', await cpu(() => { const r = sch.step(eps, sch.timesteps[5], x); r.prevSample.dispose(); r.predOriginalSample.dispose(); }, 5000));
console.log('bare arithmetic', await cpu(() => { const x0=new Float32Array(4096), nx=new Float32Array(4096); for(let k=0;k<4096;k++) x0[k]=0.3*noise[k]+0.2*noise[k]; for(let k=0;k<4096;k++) nx[k]=0.3*noise[k]+0.2*noise[k]; }, 5000));
