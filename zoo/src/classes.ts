import { SHAPES, type ShapeName } from './shapes';

export const COLOURS = ['red', 'blue'] as const;
export type ColourName = (typeof COLOURS)[number];

export interface ZooClass {
  label: number;
  shape: ShapeName;
  colour: ColourName;
  /** "red circle", "blue plus", … */
  name: string;
}

/**
 * Ten classes, 5 shapes × 2 colours, label = 2·shape + colour. Colour is the coarse cue a
 * small denoiser picks up first; shape needs structure. Crossing them means a model that
 * only gets the colour right is still wrong about the class half the time, and the
 * unconditional distribution is a 10-way mixture for guidance to sharpen.
 */
export const ZOO_CLASSES: readonly ZooClass[] = SHAPES.flatMap((shape, s) =>
  COLOURS.map((colour, c) => ({ label: 2 * s + c, shape, colour, name: `${colour} ${shape}` })),
);

export const NUM_CLASSES = ZOO_CLASSES.length;

export function classOf(shape: ShapeName, colour: ColourName): ZooClass {
  return ZOO_CLASSES[2 * SHAPES.indexOf(shape) + COLOURS.indexOf(colour)] as ZooClass;
}
