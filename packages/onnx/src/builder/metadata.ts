import type { ModelProto } from '../proto';

/** Keys the zoo and the example apps agree on; any other key is allowed too. */
export const METADATA_KEYS = {
  /** Model family the file belongs to: 'sit', 'sd21', 'sdxl', … */
  family: 'family',
  /** The model a refiner, LoRA or fine-tune was made for. */
  baseModel: 'base_model',
} as const;

/** metadata_props entries from a plain record, sorted by key so files are reproducible. */
export function metadataProps(entries: Readonly<Record<string, string>>): { key: string; value: string }[] {
  return Object.keys(entries)
    .sort()
    .map((key) => ({ key, value: entries[key] as string }));
}

/** model.metadata_props as a record. */
export function getMetadata(model: Pick<ModelProto, 'metadataProps'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) {
    if (p.key) out[p.key] = p.value ?? '';
  }
  return out;
}

/** Sets (or with `undefined`, removes) metadata entries in place, keeping the others. */
export function setMetadata(
  model: Pick<ModelProto, 'metadataProps'>,
  entries: Readonly<Record<string, string | undefined>>,
): void {
  const merged = getMetadata(model);
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  model.metadataProps = metadataProps(merged) as ModelProto['metadataProps'];
}
