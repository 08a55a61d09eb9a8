import { Generator } from '@noiserefine/core';
import { type ModelProto, onnx, type TensorProto } from '../../proto';
import { float32Tensor, readFloat32 } from '../lora-tensors';

/** The model with the named initializers set to seeded N(0, scale²) values, as after training. */
export function perturbed(
  model: ModelProto,
  names: readonly string[],
  seed: number,
  scale: number,
): ModelProto {
  const chosen = new Set(names);
  const generator = new Generator(seed);
  const initializer = ((model.graph?.initializer ?? []) as TensorProto[]).map((t) =>
    chosen.has(t.name ?? '')
      ? float32Tensor(
          t.name ?? '',
          generator.randnValues(readFloat32(t).length).map((v) => v * scale),
          (t.dims ?? []).map(Number),
        )
      : t,
  );
  return onnx.ModelProto.create({ ...model, graph: { ...model.graph, initializer } });
}
