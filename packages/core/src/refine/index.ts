export * from './msd';
export { trajectoryJacobianScale } from './trajectory-jacobian';
