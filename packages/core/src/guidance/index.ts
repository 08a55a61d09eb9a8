export * from './guidance';
