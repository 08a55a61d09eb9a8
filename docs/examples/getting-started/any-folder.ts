import { DiffusionPipeline, SiTPipeline } from '@noiserefine/core';
import { savePpm } from '../save-image';

// model_index.json's _class_name picks the pipeline: SiT, Stable Diffusion or SDXL.
const pipe = await DiffusionPipeline.fromPretrained(process.argv[2] ?? './models/tiny-sit', {
  backend: 'onnxruntime-node',
});
const { images } =
  pipe instanceof SiTPipeline
    ? await pipe.generate({ classLabel: 3, seed: 0 })
    : await pipe.generate({ prompt: 'a blue ring on a light grey background', seed: 0 });
await savePpm('image.ppm', images[0]!);
await pipe.dispose();
