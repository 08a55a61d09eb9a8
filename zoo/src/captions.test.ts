import { describe, expect, it } from 'vitest';
import { captionFor, parseCaption } from './captions';
import { ZOO_CLASSES } from './classes';
import { generateDataset, generateSample } from './dataset';

describe('captions', () => {
  it('name the class of every sample, and parse back to it', () => {
    const d = generateDataset({ seed: 4, count: 600 });
    d.captions.forEach((caption, i) => {
      expect(parseCaption(caption).label, caption).toBe(d.labels[i]);
    });
    // All three templates and several phrasings occur.
    expect(new Set(d.captions).size).toBeGreaterThan(300);
    expect(d.captions.some((c) => c.startsWith('a ') && !c.includes(','))).toBe(true);
    expect(d.captions.some((c) => c.includes(', on a '))).toBe(true);
    expect(d.captions.some((c) => c.includes('background with a'))).toBe(true);
  });

  it('describe size, shade, position and background from the attributes', () => {
    const base = generateSample(0, 4).attributes; // a red plus
    const caption = captionFor({
      ...base,
      radius: 0.3,
      value: 0.6,
      centreX: 0.4,
      centreY: 0.4,
      backgroundGrey: 0.6,
      captionTemplate: 1,
    });
    expect(caption).toBe('a small dark red plus sign, towards the top left, on a light grey background');
  });

  it('rejects captions that name no class or two', () => {
    expect(() => parseCaption('a green square')).toThrow(/exactly one colour/);
    expect(() => parseCaption('a red ring and a blue circle')).toThrow(/got 2 and 2/);
    expect(parseCaption('A blue diagonal cross'.toLowerCase())).toBe(ZOO_CLASSES[7]);
  });
});
