export * from './model';
export * from './registry';
export { float16BitsToFloat32, float32ToFloat16Bits } from './float16';
export * from './signature';
