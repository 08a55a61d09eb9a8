import { ModelLoadError } from '@noiserefine/core';
import { exportOnnx, loadCheckpoint, OnnxGraph } from '@noiserefine/tfjs';
import { buildSiT } from '../networks/sit';
import { EMA_PREFIX } from './graph-trainer';
import type { SiTTrainingConfig } from './sit-trainer';

export interface CheckpointNetwork {
  /** ONNX bytes of the network with the checkpoint's weights. */
  onnx: Uint8Array;
  step: number;
  config: SiTTrainingConfig;
  /** Which weights were taken: the moving average when the run kept one. */
  weights: 'ema' | 'current';
}

/**
 * The network of a SiTTrainer checkpoint as ONNX, without the dataset or the optimizer:
 * for looking at samples of a run in progress. Needs an active tfjs engine.
 */
export async function checkpointToOnnx(
  dir: string,
  prefer: 'ema' | 'current' = 'ema',
): Promise<CheckpointNetwork> {
  const header = await loadCheckpoint(dir, { variables: new Map(), strict: false });
  const config = header.metadata?.config as SiTTrainingConfig | undefined;
  if (!config?.network) {
    throw new ModelLoadError(
      dir,
      'expected a SiT training checkpoint whose metadata holds the training config',
    );
  }
  const graph = new OnnxGraph(buildSiT(config.network, { seed: config.seed }), {
    trainable: true,
    modelName: 'sit',
  });
  try {
    const weights = prefer === 'ema' && config.emaDecay > 0 ? 'ema' : 'current';
    const prefix = weights === 'ema' ? EMA_PREFIX : '';
    const variables = new Map([...graph.variables].map(([name, v]) => [`${prefix}${name}`, v]));
    const loaded = await loadCheckpoint(dir, { variables, strict: false });
    if (loaded.restored.length !== variables.size) {
      throw new ModelLoadError(
        dir,
        `expected ${variables.size} ${weights} tensors for the network, found ${loaded.restored.length}`,
      );
    }
    return { onnx: await exportOnnx(graph), step: loaded.step, config, weights };
  } finally {
    graph.dispose();
  }
}
