import { InvalidArgumentError } from '@noiserefine/core';
import { GraphBuilder, gelu, layerNorm, linear, type ModelProto, type Value } from '@noiserefine/onnx';

/** Graph input: [batch, 3, S, S] images in [−1, 1]. */
export const EVALUATOR_INPUT = 'images';
/** Graph outputs: class logits [batch, classes] and unit-length features [batch, featureDim]. */
export const EVALUATOR_OUTPUTS = { logits: 'logits', features: 'features' } as const;

export interface EvaluatorArchitecture {
  imageSize: number;
  /** Widths of the hidden layers (each: linear → LayerNorm → GELU). */
  hiddenSizes: number[];
  /** Width of the embedding the features are taken from. */
  featureDim: number;
  numClasses: number;
}

/**
 * An MLP on pixels. Only matrix products, LayerNorm and GELU, so it trains on every tfjs
 * engine (the wasm engine has no convolution gradients) and runs anywhere. Shift
 * augmentation stands in for a convolution's translation invariance; the shapes are
 * large and near the centre, so a 2-pixel range covers the data.
 */
export const DEFAULT_EVALUATOR_ARCHITECTURE: Readonly<EvaluatorArchitecture> = {
  imageSize: 16,
  hiddenSizes: [384, 192],
  featureDim: 64,
  numClasses: 10,
};

export interface EvaluatorGraphOptions {
  /** Seed of the initial weights. */
  seed?: number;
  /** Trained weights by parameter name (all of them: a partial set is a mistake). */
  weights?: ReadonlyMap<string, Float32Array>;
  metadata?: Readonly<Record<string, string>>;
}

function checkArchitecture(a: EvaluatorArchitecture): void {
  const positive = (v: number) => Number.isInteger(v) && v > 0;
  if (![a.imageSize, a.featureDim, a.numClasses, ...a.hiddenSizes].every(positive) || a.numClasses < 2) {
    throw new InvalidArgumentError(
      `evaluator architecture: expected positive integer sizes and ≥ 2 classes, got ${JSON.stringify(a)}`,
    );
  }
}

/** x / ‖x‖ over the last axis (with a floor, so an all-zero embedding stays finite). */
function l2Normalize(g: GraphBuilder, x: Value, dim: number): Value {
  return g.scope('normalize', () => {
    const squaredNorm = g.mul(g.reduceMean(g.mul(x, x), [1]), dim);
    return g.div(x, g.sqrt(g.add(squaredNorm, 1e-12)));
  });
}

/**
 * The evaluator as an ONNX graph: images → hidden layers → embedding z; `logits` = a
 * linear head on z, `features` = z / ‖z‖. Normalising the features keeps the Fréchet
 * distance from being dominated by how strongly an off-manifold image excites the
 * network (the norm of z), and puts every model's distance on one bounded scale.
 */
export function buildEvaluatorGraph(
  architecture: Readonly<EvaluatorArchitecture> = DEFAULT_EVALUATOR_ARCHITECTURE,
  options: EvaluatorGraphOptions = {},
): ModelProto {
  checkArchitecture(architecture);
  const { imageSize, hiddenSizes, featureDim, numClasses } = architecture;
  const g = new GraphBuilder({
    name: 'zoo_evaluator',
    seed: options.seed ?? 0,
    weights: options.weights,
    exactWeights: options.weights !== undefined,
  });
  const pixels = 3 * imageSize * imageSize;
  const images = g.input(EVALUATOR_INPUT, 'float32', ['batch', 3, imageSize, imageSize]);
  let h = g.reshape(images, [0, pixels]);
  let width = pixels;
  hiddenSizes.forEach((size, i) => {
    h = g.scope(`layers.${i}`, () => {
      const projected = linear(g, h, { name: 'fc', inFeatures: width, outFeatures: size });
      return gelu(g, layerNorm(g, projected, { name: 'norm', dim: size }));
    });
    width = size;
  });
  const embedding = linear(g, h, { name: 'embedding', inFeatures: width, outFeatures: featureDim });
  const logits = linear(g, embedding, { name: 'head', inFeatures: featureDim, outFeatures: numClasses });
  g.output(logits, EVALUATOR_OUTPUTS.logits);
  g.output(l2Normalize(g, embedding, featureDim), EVALUATOR_OUTPUTS.features);
  return g.toModel({
    metadata: { model: 'zoo-evaluator', ...options.metadata },
    docString: 'Classifier and feature extractor for evaluating the tiny zoo models (FD, accuracy, IS).',
  });
}
