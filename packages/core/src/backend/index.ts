export * from './model';
export * from './registry';
