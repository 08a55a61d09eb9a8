import { decodeModel, encodeModel, type TensorProto } from '@noiserefine/onnx';
import type { TfjsModel } from '../model/tfjs-model';
import type { OnnxGraph } from './graph-executor';
import { writeFloatInitializer } from './tensor-proto';

/**
 * The model as ONNX bytes with its trainable initializers replaced by their current values,
 * each in its original element type (float16 stays float16). Frozen initializers are copied
 * as they were, external-data references included.
 */
export async function exportOnnx(model: TfjsModel | OnnxGraph): Promise<Uint8Array> {
  const graph = 'graph' in model ? model.graph : model;
  const copy = decodeModel(encodeModel(graph.proto));
  const byName = new Map(((copy.graph?.initializer ?? []) as TensorProto[]).map((t) => [t.name, t]));
  for (const [name, variable] of graph.variables) {
    const target = byName.get(name);
    if (!target) continue;
    writeFloatInitializer(target, Float32Array.from((await variable.data()) as Float32Array));
  }
  return encodeModel(copy);
}
