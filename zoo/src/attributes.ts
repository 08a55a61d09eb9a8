import { InvalidArgumentError } from '@noiserefine/core';
import { type ColourName, NUM_CLASSES, ZOO_CLASSES } from './classes';
import type { SampleRandom } from './sample-random';
import type { ShapeName } from './shapes';

/** Everything that varies within a class. Geometry is in fractions of the image side. */
export interface SampleAttributes {
  label: number;
  shape: ShapeName;
  colour: ColourName;
  /** Object centre, (0.5, 0.5) is the image centre. */
  centreX: number;
  centreY: number;
  radius: number;
  /** Radians; ±15° keeps plus and cross apart. */
  rotation: number;
  /** Object colour in HSV (hue in degrees) and its RGB in [0, 1]. */
  hue: number;
  saturation: number;
  value: number;
  rgb: readonly [number, number, number];
  /** Background grey level in [0, 1], a slight per-channel tint, and a linear gradient. */
  backgroundGrey: number;
  backgroundTint: readonly [number, number, number];
  gradientAngle: number;
  gradientAmplitude: number;
  /** Which caption template phrases this sample. */
  captionTemplate: number;
}

/** Hue ranges of the two colour families (degrees). */
const HUE_RANGES: Record<ColourName, readonly [number, number]> = {
  red: [-12, 18],
  blue: [200, 235],
};

/** Objects are large and near the centre: the layout is learnable, the class still ambiguous. */
export const GEOMETRY = {
  maxOffset: 0.14,
  minRadius: 0.28,
  maxRadius: 0.42,
  maxRotation: (15 * Math.PI) / 180,
} as const;

export const CAPTION_TEMPLATES = 3;

export function hsvToRgb(hueDeg: number, s: number, v: number): [number, number, number] {
  const h = (((hueDeg % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 1
      ? [c, x, 0]
      : h < 2
        ? [x, c, 0]
        : h < 3
          ? [0, c, x]
          : h < 4
            ? [0, x, c]
            : h < 5
              ? [x, 0, c]
              : [c, 0, x];
  return [r + m, g + m, b + m];
}

/** Draws a sample's attributes for a given class; the draw order is part of the format. */
export function drawAttributes(label: number, random: SampleRandom): SampleAttributes {
  const cls = ZOO_CLASSES[label];
  if (cls === undefined) {
    throw new InvalidArgumentError(
      `class label: expected an integer in [0, ${NUM_CLASSES - 1}], got ${label}`,
    );
  }
  const [hueLo, hueHi] = HUE_RANGES[cls.colour];
  const centreX = 0.5 + random.range(-GEOMETRY.maxOffset, GEOMETRY.maxOffset);
  const centreY = 0.5 + random.range(-GEOMETRY.maxOffset, GEOMETRY.maxOffset);
  const radius = random.range(GEOMETRY.minRadius, GEOMETRY.maxRadius);
  const rotation = random.range(-GEOMETRY.maxRotation, GEOMETRY.maxRotation);
  const hue = random.range(hueLo, hueHi);
  const saturation = random.range(0.6, 0.95);
  const value = random.range(0.55, 1);
  const backgroundGrey = random.range(0.25, 0.7);
  const backgroundTint: [number, number, number] = [
    random.range(-0.04, 0.04),
    random.range(-0.04, 0.04),
    random.range(-0.04, 0.04),
  ];
  const gradientAngle = random.range(0, 2 * Math.PI);
  const gradientAmplitude = random.range(0, 0.1);
  const captionTemplate = random.int(CAPTION_TEMPLATES);
  return {
    label,
    shape: cls.shape,
    colour: cls.colour,
    centreX,
    centreY,
    radius,
    rotation,
    hue,
    saturation,
    value,
    rgb: hsvToRgb(hue, saturation, value),
    backgroundGrey,
    backgroundTint,
    gradientAngle,
    gradientAmplitude,
    captionTemplate,
  };
}
