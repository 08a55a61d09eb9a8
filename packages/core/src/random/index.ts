export { Generator, randn, type RandnOptions } from './generator';
export { MT19937 } from './mt19937';
