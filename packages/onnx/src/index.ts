export * from './proto';
export * from './builder/index';
