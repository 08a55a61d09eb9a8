import { InvalidArgumentError } from '@noiserefine/core';

/**
 * Compiles diffusers-style layer patterns (`pag_applied_layers`): regular expressions
 * searched anywhere in a layer's module path, e.g. 'mid', 'down_blocks.1', 'blocks.1'.
 */
export function compileLayerPatterns(patterns: readonly string[], what: string): RegExp[] {
  if (patterns.length === 0) {
    throw new InvalidArgumentError(`${what}: expected at least one layer pattern, got an empty list`);
  }
  return patterns.map((pattern) => {
    if (typeof pattern !== 'string' || pattern === '') {
      throw new InvalidArgumentError(
        `${what}: expected non-empty pattern strings, got ${JSON.stringify(pattern)}`,
      );
    }
    try {
      return new RegExp(pattern, 'g');
    } catch (error) {
      throw new InvalidArgumentError(
        `${what}: expected regular expressions, got ${JSON.stringify(pattern)} (${(error as Error).message})`,
        { cause: error },
      );
    }
  });
}

/**
 * Whether `pattern` occurs in `path`. Unlike a bare regex search, a match may not stop inside
 * a number, so 'blocks.1' selects `blocks.1.attn` but not `blocks.10.attn` or `blocks.12.attn`.
 */
export function matchesLayerPattern(pattern: RegExp, path: string): boolean {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  for (let match = re.exec(path); match !== null; match = re.exec(path)) {
    const end = match.index + match[0].length;
    const splitsNumber = /\d/.test(path.charAt(end - 1)) && /\d/.test(path.charAt(end));
    if (!splitsNumber) return true;
    // A match further on may still end on a boundary.
    re.lastIndex = match.index + 1;
  }
  return false;
}
