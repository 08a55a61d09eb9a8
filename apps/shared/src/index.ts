export { type GridRow, type LabelledGridOptions, renderLabelledGrid } from './labelled-grid';
export { timed } from './timing';
