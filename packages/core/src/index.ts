export * from './errors';
export * from './tensor/index';
export * from './random/index';
export * from './schedulers/index';
export * from './backend/index';
export * from './guidance/index';
export * from './refine/index';
