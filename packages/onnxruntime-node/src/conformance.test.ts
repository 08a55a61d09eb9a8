import { runConformanceSuite } from '@noiserefine/core/testing';
import { onnxruntimeNode } from './index';

runConformanceSuite({ name: 'onnxruntime-node conformance', createBackend: () => onnxruntimeNode() });
