/**
 * @noiserefine/core/testing: the conformance suite every backend adapter runs in its tests,
 * and the fixtures it uses (small torch-exported ONNX models with torch's outputs).
 * Node only; needs vitest.
 */
export {
  type ConformanceOptions,
  type ConformanceTolerance,
  DEFAULT_OPS_TOLERANCE,
  type SkipList,
  type TensorSuiteOptions,
  conformanceTestIds,
  resolveSkips,
  runConformanceSuite,
  runTensorBackendSuite,
} from './conformance';
export { type Closeness, EXACT, closeness, describeMismatch, expectClose, expectShape } from './compare';
export {
  type DDIMCfgLoopFixture,
  type Fixture,
  type FixtureName,
  type FixtureTensor,
  type FixtureValueInfo,
  type FlowEulerLoopFixture,
  LOOP_FIXTURES,
  type LoopFixtureName,
  MODEL_FIXTURES,
  type ModelFixture,
  type ModelFixtureName,
  type Tolerance,
  fixtureFeeds,
  fixturePath,
  fixtureValues,
  fixturesDir,
  loadFixture,
  readFixtureModel,
  toHostTensor,
  toTensor,
} from './fixtures';
export { type MockBackend, type MockModelSpec, mockBackend } from './mock-backend';
