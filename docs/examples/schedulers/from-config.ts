import { readFile } from 'node:fs/promises';
import {
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  StableDiffusionPipeline,
  schedulerFromConfig,
} from '@noiserefine/core';

const folder = './models/stable-diffusion-2-1';
const config = JSON.parse(await readFile(`${folder}/scheduler/scheduler_config.json`, 'utf8'));

// diffusers' file as is: `_class_name` picks the class, snake_case keys are read, unknown keys warn.
const fromFile = schedulerFromConfig(config, { onWarning: (message) => console.warn(message) });
fromFile.setTimesteps(10);
console.log(fromFile.timesteps); // e.g. [901, 801, …, 1] for "leading" spacing with steps_offset 1

// Another scheduler on the same noise schedule, as diffusers' Scheduler.from_config(pipe.scheduler.config).
const euler = EulerDiscreteScheduler.fromConfig(config);
const dpm = DPMSolverMultistepScheduler.fromConfig({ ...config, use_karras_sigmas: true });

const pipe = await StableDiffusionPipeline.fromPretrained(folder, { backend: 'onnxruntime-node' });
for (const scheduler of [euler, dpm]) {
  await pipe.generate({ prompt: 'a red triangle', scheduler, numInferenceSteps: 20, seed: 0 });
}
await pipe.dispose();
