export * from './tensor';
export * from './ops';
export { ReferenceBackend, ReferenceTensor, referenceBackend } from './reference-backend';
export { broadcastShapes, shapesEqual, sizeOf } from './shape';
