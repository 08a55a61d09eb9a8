export * from './proto';
export * from './builder/index';
export * from './transforms/index';
