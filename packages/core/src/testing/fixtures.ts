/**
 * The conformance fixtures: small ONNX models exported by torch, each with a JSON record of
 * deterministic inputs and the outputs torch computed for them (see fixtures/README.md).
 * Paths resolve from this package's root, so they work from the sources and from dist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dim, HostTensor, ModelDType, ModelFeeds } from '../backend/model';
import { InvalidArgumentError, ModelLoadError } from '../errors';
import { sizeOf } from '../tensor/shape';
import type { Tensor, TensorBackend } from '../tensor/tensor';

/** Absolute and relative error bounds: |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** A tensor as the fixtures store it: row-major values (integers for integer dtypes). */
export interface FixtureTensor {
  dtype: 'float32' | 'float16' | 'int64' | 'int32';
  shape: number[];
  data: number[];
}

export interface FixtureValueInfo {
  name: string;
  dtype: ModelDType;
  shape: Dim[];
}

interface FixtureBase {
  name: string;
  description: string;
  /** The ONNX file, relative to the fixtures folder. */
  model: string;
  /** Largest |float32 − float64| torch showed on this computation: its rounding noise. */
  float64Deviation: number | null;
  tolerance: Tolerance;
}

/** One model call: inputs and the outputs torch produced. */
export interface ModelFixture extends FixtureBase {
  kind: 'model';
  opset: number;
  /** The ONNX operator types in the graph. */
  ops: string[];
  inputInfo: FixtureValueInfo[];
  outputInfo: FixtureValueInfo[];
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
}

/** DDIM with classifier-free guidance, [uncond, cond] batched in one model call per step. */
export interface DDIMCfgLoopFixture extends FixtureBase {
  kind: 'ddim-cfg-loop';
  /** diffusers' scheduler_config.json. */
  scheduler: Record<string, unknown>;
  numInferenceSteps: number;
  guidanceScale: number;
  timesteps: number[];
  /** The initial latent is `torch.manual_seed(seed); torch.randn(shape)`. */
  seed: number;
  initialLatent: FixtureTensor;
  uncondEmbeddings: FixtureTensor;
  condEmbeddings: FixtureTensor;
  /** The batched [uncond, cond] model output of each step. */
  modelOutputs: FixtureTensor[];
  /** The latent after each step; the last entry is the final latent. */
  trajectory: FixtureTensor[];
}

/** Euler integration of a flow model's velocity from t = 0 (noise) to t = 1 (data). */
export interface FlowEulerLoopFixture extends FixtureBase {
  kind: 'flow-euler-loop';
  numSteps: number;
  /** numSteps + 1 float32 times, 0 to 1. */
  timeGrid: number[];
  seed: number;
  labels: FixtureTensor;
  initialLatent: FixtureTensor;
  /** The model's velocity at each step. */
  velocities: FixtureTensor[];
  /** The latent after each step; the last entry is the final latent. */
  trajectory: FixtureTensor[];
}

export const MODEL_FIXTURES = [
  'conv2d',
  'linear',
  'layernorm',
  'layernorm-opset14',
  'groupnorm',
  'attention',
  'cross-attention',
  'gelu',
  'resize-nearest',
  'shape-ops',
  'tiny-unet',
  'tiny-unet-scalar-timestep',
  'tiny-unet-fp16',
  'tiny-sit',
] as const;

export const LOOP_FIXTURES = ['tiny-unet-ddim-cfg', 'tiny-sit-flow-euler'] as const;

export type ModelFixtureName = (typeof MODEL_FIXTURES)[number];
export type LoopFixtureName = (typeof LOOP_FIXTURES)[number];
export type FixtureName = ModelFixtureName | LoopFixtureName;
export type Fixture = ModelFixture | DDIMCfgLoopFixture | FlowEulerLoopFixture;

const PACKAGE_NAME = '@noiserefine/core';
let cachedDir: string | undefined;

/** The fixtures folder of the installed @noiserefine/core. */
export function fixturesDir(): string {
  if (cachedDir !== undefined) return cachedDir;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === PACKAGE_NAME) {
      cachedDir = join(dir, 'fixtures');
      return cachedDir;
    }
    if (dirname(dir) === dir) {
      throw new ModelLoadError('fixtures', `no ${PACKAGE_NAME} package.json above ${start}`);
    }
  }
}

function readPackageName(manifest: string): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

/**
 * Absolute path of a fixture file. A name without extension means the ONNX model:
 * `fixturePath('tiny-unet')` is `…/fixtures/tiny-unet.onnx`; `fixturePath('tiny-unet.json')` its record.
 */
export function fixturePath(name: string): string {
  if (name.includes('/') || name.includes('\\') || name.startsWith('.')) {
    throw new InvalidArgumentError(`fixturePath: expected a file name in the fixtures folder, got "${name}"`);
  }
  return join(fixturesDir(), /\.[a-z0-9]+$/i.test(name) ? name : `${name}.onnx`);
}

/** The bytes of a fixture's ONNX file (by fixture name or file name). */
export async function readFixtureModel(name: string): Promise<Uint8Array> {
  const path = fixturePath(name);
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new ModelLoadError(path, 'the fixture file cannot be read', { cause: error });
  }
}

const KIND_OF: Record<FixtureName, Fixture['kind']> = {
  ...(Object.fromEntries(MODEL_FIXTURES.map((n) => [n, 'model'])) as Record<ModelFixtureName, 'model'>),
  'tiny-unet-ddim-cfg': 'ddim-cfg-loop',
  'tiny-sit-flow-euler': 'flow-euler-loop',
};

/** Reads and checks a fixture record (`<name>.json`). */
export async function loadFixture(name: ModelFixtureName): Promise<ModelFixture>;
export async function loadFixture(name: 'tiny-unet-ddim-cfg'): Promise<DDIMCfgLoopFixture>;
export async function loadFixture(name: 'tiny-sit-flow-euler'): Promise<FlowEulerLoopFixture>;
export async function loadFixture(name: LoopFixtureName): Promise<DDIMCfgLoopFixture | FlowEulerLoopFixture>;
export async function loadFixture(name: FixtureName): Promise<Fixture>;
export async function loadFixture(name: FixtureName): Promise<Fixture> {
  const kind = KIND_OF[name];
  if (kind === undefined) {
    throw new InvalidArgumentError(
      `loadFixture: unknown fixture "${name}"; expected one of ${Object.keys(KIND_OF).join(', ')}`,
    );
  }
  const path = fixturePath(`${name}.json`);
  let record: Fixture;
  try {
    record = JSON.parse(await readFile(path, 'utf8')) as Fixture;
  } catch (error) {
    throw new ModelLoadError(path, 'the fixture record cannot be read as JSON', { cause: error });
  }
  if (record.kind !== kind || record.name !== name) {
    throw new ModelLoadError(
      path,
      `expected a "${kind}" record named "${name}", got kind "${record.kind}" named "${record.name}"`,
    );
  }
  for (const [what, t] of fixtureTensors(record)) checkFixtureTensor(path, what, t);
  return record;
}

function fixtureTensors(record: Fixture): [string, FixtureTensor][] {
  switch (record.kind) {
    case 'model':
      return [
        ...Object.entries(record.inputs).map(([k, t]): [string, FixtureTensor] => [`input "${k}"`, t]),
        ...Object.entries(record.outputs).map(([k, t]): [string, FixtureTensor] => [`output "${k}"`, t]),
      ];
    case 'ddim-cfg-loop':
      return [
        ['initialLatent', record.initialLatent],
        ['uncondEmbeddings', record.uncondEmbeddings],
        ['condEmbeddings', record.condEmbeddings],
        ...record.modelOutputs.map((t, i): [string, FixtureTensor] => [`modelOutputs[${i}]`, t]),
        ...record.trajectory.map((t, i): [string, FixtureTensor] => [`trajectory[${i}]`, t]),
      ];
    case 'flow-euler-loop':
      return [
        ['labels', record.labels],
        ['initialLatent', record.initialLatent],
        ...record.velocities.map((t, i): [string, FixtureTensor] => [`velocities[${i}]`, t]),
        ...record.trajectory.map((t, i): [string, FixtureTensor] => [`trajectory[${i}]`, t]),
      ];
  }
}

function checkFixtureTensor(path: string, what: string, t: FixtureTensor): void {
  if (!Array.isArray(t?.shape) || !Array.isArray(t?.data)) {
    throw new ModelLoadError(path, `${what}: expected { dtype, shape, data } with array shape and data`);
  }
  if (sizeOf(t.shape) !== t.data.length) {
    throw new ModelLoadError(
      path,
      `${what}: expected ${sizeOf(t.shape)} values for shape [${t.shape.join(', ')}], got ${t.data.length}`,
    );
  }
}

/** A fixture tensor's values as float32 (floats are stored as their shortest float32 decimals). */
export function fixtureValues(t: FixtureTensor): Float32Array {
  return Float32Array.from(t.data);
}

/** A fixture tensor as a HostTensor (int64 as BigInt64Array). */
export function toHostTensor(t: FixtureTensor): HostTensor {
  switch (t.dtype) {
    case 'int64':
      return { dtype: 'int64', data: BigInt64Array.from(t.data, (v) => BigInt(v)), shape: t.shape };
    case 'int32':
      return { dtype: 'int32', data: Int32Array.from(t.data), shape: t.shape };
    default:
      return { dtype: 'float32', data: fixtureValues(t), shape: t.shape };
  }
}

/** A fixture tensor on `tensors`. Float16 data is passed as float32: model runners convert. */
export function toTensor(t: FixtureTensor, tensors: TensorBackend): Tensor {
  if (t.dtype === 'int64' || t.dtype === 'int32') {
    throw new InvalidArgumentError(`toTensor: core tensors are float; got a ${t.dtype} fixture tensor`);
  }
  return tensors.fromData(fixtureValues(t), t.shape);
}

/** The feeds of a model fixture: float inputs as core Tensors, integer inputs as HostTensors. */
export function fixtureFeeds(fixture: ModelFixture, tensors: TensorBackend): ModelFeeds {
  const feeds: ModelFeeds = {};
  for (const [name, t] of Object.entries(fixture.inputs)) {
    feeds[name] = t.dtype === 'int64' || t.dtype === 'int32' ? toHostTensor(t) : toTensor(t, tensors);
  }
  return feeds;
}
