/**
 * Writes the zoo's CLIP-format tokenizer folders:
 *   models/shared/tokenizer    pad = <|endoftext|> (OpenAI CLIP-L style: SD 1.x, SDXL tokenizer 1)
 *   models/shared/tokenizer_2  pad = "!" = id 0   (OpenCLIP style: SD 2.x, SDXL tokenizer 2)
 * Both share one vocabulary: CLIP's 512 byte-level base tokens, BPE merges learned from the
 * dataset's captions (plus a few words users are likely to type) until every word is a single
 * token, then <|startoftext|> and <|endoftext|>.
 *
 * Usage: tsx scripts/make-tokenizer.ts [--samples 2000] [--corpus extra.txt] [--out models/shared]
 * A corpus file (one caption per line) adds its text to the corpus.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildClipVocabulary, CLIPTokenizer, type ClipPadStyle, clipTokenizerFiles } from '@noiserefine/core';
import { generateSample } from '../src/dataset';

// Captions are drawn per sample; this many covers every template, size, shade and position word.
const DEFAULT_SAMPLES = 2000;
const CAPTION_SEED = 0;

/** Words beyond the caption grammar that prompts are likely to use: colours, shapes, sizes, places. */
const EXTRA_WORDS = [
  ...['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'magenta', 'pink'],
  ...['white', 'black', 'grey', 'gray', 'brown'],
  ...['dark', 'light', 'bright', 'pale'],
  ...['circle', 'square', 'triangle', 'cross', 'plus', 'ring', 'disc', 'dot', 'star', 'diamond'],
  ...['rectangle', 'line', 'stripe', 'bar', 'ellipse', 'hexagon', 'heart'],
  ...['circles', 'squares', 'triangles', 'crosses', 'pluses', 'rings', 'dots', 'stripes', 'shapes', 'shape'],
  ...['tiny', 'small', 'medium', 'large', 'big', 'huge'],
  ...['left', 'right', 'top', 'bottom', 'centre', 'centred', 'center', 'centered', 'middle'],
  ...['upper', 'lower', 'corner', 'side', 'edge'],
  ...['a', 'an', 'the', 'on', 'in', 'at', 'of', 'with', 'and', 'near', 'above', 'below'],
  ...['beside', 'next', 'to', 'over', 'under', 'background', 'plain', 'empty', 'image'],
  ...['one', 'two', 'three', 'four', 'five', ',', '.'],
];

// CLIP's word split (letter runs, single digits, punctuation runs), for the single-token check.
const CLIP_WORD = /\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

const FLAVOURS: readonly { folder: string; padStyle: ClipPadStyle }[] = [
  { folder: 'tokenizer', padStyle: 'eos' },
  { folder: 'tokenizer_2', padStyle: 'exclamation' },
];

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: String(DEFAULT_SAMPLES) },
      corpus: { type: 'string' },
      out: { type: 'string', default: join(here, '..', 'models', 'shared') },
    },
  });
  const samples = Number(values.samples);
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`--samples: expected a positive integer, got ${values.samples}`);
  }
  const captions = Array.from({ length: samples }, (_, index) => generateSample(CAPTION_SEED, index).caption);
  const corpus = [...captions, ...EXTRA_WORDS];
  if (values.corpus !== undefined) {
    const text = await readFile(resolve(values.corpus), 'utf8');
    corpus.push(...text.split(/\r?\n/).filter((line) => line.trim() !== ''));
  }
  const vocabulary = buildClipVocabulary(corpus);
  const out = resolve(values.out);
  for (const { folder, padStyle } of FLAVOURS) {
    const dir = join(out, folder);
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(clipTokenizerFiles(vocabulary, { padStyle }))) {
      await writeFile(join(dir, name), text);
    }
    // Read the folder back through the real loader and check every corpus word is one token.
    const tokenizer = await CLIPTokenizer.fromPretrained(dir);
    const words = new Set(corpus.flatMap((text) => text.toLowerCase().match(CLIP_WORD) ?? []));
    const split = [...words].filter((word) => tokenizer.tokenize(word).length !== 1);
    if (split.length > 0) throw new Error(`${dir}: words not learned as single tokens: ${split.join(', ')}`);
    const longest = Math.max(
      ...captions.map((c) => tokenizer.encode(c, { padding: false }).inputIds[0]!.length),
    );
    console.log(
      `${dir}: ${words.size} words, ${tokenizer.vocabSize} tokens (${vocabulary.merges.length} merges), pad ${JSON.stringify(tokenizer.padToken)} = ${tokenizer.padTokenId}, max length ${tokenizer.modelMaxLength}, longest caption ${longest} ids`,
    );
  }
}

await main();
