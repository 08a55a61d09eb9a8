import {
  ModelLoadError,
  ModelSignatureError,
  NoiseRefineError,
  StableDiffusionPipeline,
  UnsupportedCapabilityError,
} from '@noiserefine/core';

try {
  const pipe = await StableDiffusionPipeline.fromPretrained('./models/stable-diffusion-2-1', {
    backend: 'onnxruntime-node',
  });
  await pipe.generate({ prompt: 'a red circle', numInferenceSteps: 20 });
  await pipe.dispose();
} catch (error) {
  if (error instanceof ModelLoadError) {
    // A missing, unreadable or corrupt file; error.file is its path.
    console.error(`fix the file ${error.file}: ${error.message}`);
  } else if (error instanceof ModelSignatureError) {
    // The model's inputs/outputs do not fit the family (the message lists expected and found).
    console.error(error.message);
  } else if (error instanceof UnsupportedCapabilityError) {
    // E.g. the named backend's package is not installed, or an execution provider is unavailable.
    console.error(error.message);
  } else if (NoiseRefineError.isInstance(error)) {
    // Any other typed error (true even across duplicate installs of @noiserefine/core).
    console.error(`${error.name}: ${error.message}`);
  } else {
    throw error;
  }
}
