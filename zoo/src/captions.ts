import { InvalidArgumentError } from '@noiserefine/core';
import type { SampleAttributes } from './attributes';
import { COLOURS, type ColourName, classOf, type ZooClass } from './classes';
import { SHAPES, type ShapeName } from './shapes';

/** How each shape is said; every phrase names exactly one shape. */
export const SHAPE_NOUNS: Record<ShapeName, string> = {
  circle: 'circle',
  ring: 'ring',
  plus: 'plus sign',
  cross: 'diagonal cross',
  triangle: 'triangle',
};

function sizeWord(radius: number): string {
  if (radius < 0.32) return 'small ';
  if (radius > 0.38) return 'large ';
  return '';
}

function shadeWord(a: SampleAttributes): string {
  if (a.value < 0.7) return 'dark ';
  if (a.saturation < 0.7) return 'pale ';
  if (a.value > 0.9) return 'bright ';
  return '';
}

function backgroundWords(grey: number): string {
  if (grey < 0.4) return 'dark grey';
  if (grey > 0.55) return 'light grey';
  return 'grey';
}

function positionWords(a: SampleAttributes): string {
  const dx = a.centreX - 0.5;
  const dy = a.centreY - 0.5;
  const near = 0.06;
  const vertical = dy < -near ? 'top' : dy > near ? 'bottom' : '';
  const horizontal = dx < -near ? 'left' : dx > near ? 'right' : '';
  if (vertical && horizontal) return `towards the ${vertical} ${horizontal}`;
  if (vertical) return vertical === 'top' ? 'above centre' : 'below centre';
  if (horizontal) return `${horizontal} of centre`;
  return 'centred';
}

/**
 * A caption from a small grammar over the sample's attributes, e.g.
 * "a small dark red ring, towards the top left, on a light grey background". The
 * template is drawn with the sample, so captions vary in form as well as content.
 */
export function captionFor(a: SampleAttributes): string {
  const object = `${sizeWord(a.radius)}${shadeWord(a)}${a.colour} ${SHAPE_NOUNS[a.shape]}`;
  const background = `${backgroundWords(a.backgroundGrey)} background`;
  switch (a.captionTemplate % 3) {
    case 0:
      return `a ${object} on a ${background}`;
    case 1:
      return `a ${object}, ${positionWords(a)}, on a ${background}`;
    default:
      return `${background} with a ${object} ${positionWords(a)}`;
  }
}

const SHAPE_PATTERN = new RegExp(`\\b(${SHAPES.map((s) => SHAPE_NOUNS[s]).join('|')})\\b`, 'g');
const COLOUR_PATTERN = new RegExp(`\\b(${COLOURS.join('|')})\\b`, 'g');

/** The class a caption names: exactly one colour word and one shape phrase. */
export function parseCaption(caption: string): ZooClass {
  const shapes = [...caption.matchAll(SHAPE_PATTERN)].map((m) => m[1]);
  const colours = [...caption.matchAll(COLOUR_PATTERN)].map((m) => m[1]);
  if (shapes.length !== 1 || colours.length !== 1) {
    throw new InvalidArgumentError(
      `caption: expected exactly one colour (${COLOURS.join('/')}) and one shape, got ${colours.length} and ${shapes.length} in "${caption}"`,
    );
  }
  const shape = SHAPES.find((s) => SHAPE_NOUNS[s] === shapes[0]) as ShapeName;
  return classOf(shape, colours[0] as ColourName);
}
