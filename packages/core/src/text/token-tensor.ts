import type { HostTensor, ValueInfo } from '../backend/model';
import { InvalidArgumentError, ModelSignatureError, ShapeMismatchError } from '../errors';

/** Integer element types a text encoder's `input_ids` may have. */
export type TokenDType = 'int64' | 'int32';

/**
 * Packs rows of token ids (or an attention mask) into a [batch, length] HostTensor for a model
 * input. Pass the input's metadata (`model.inputs`) to follow the export: int64 is the exporters'
 * default, some exports take int32; fixed dimensions of the input are checked too.
 */
export function tokenIdsToHostTensor(
  rows: readonly (readonly number[])[],
  target: TokenDType | ValueInfo = 'int64',
): HostTensor {
  const input = typeof target === 'string' ? undefined : target;
  const dtype = input === undefined ? (target as TokenDType) : input.dtype;
  if (dtype !== 'int64' && dtype !== 'int32') {
    const what = input === undefined ? 'token tensor dtype' : `model input "${input.name}"`;
    throw new ModelSignatureError(`${what}: expected int64 or int32 token ids, got ${dtype}`);
  }
  const batch = rows.length;
  const length = rows[0]?.length ?? 0;
  rows.forEach((row, index) => {
    if (row.length !== length) {
      throw new InvalidArgumentError(
        `token rows must have equal lengths to form a tensor (pad them); row 0 has ${length} ids, row ${index} has ${row.length}`,
      );
    }
  });
  if (input !== undefined) checkShape(input, batch, length);
  const flat = rows.flat();
  flat.forEach((id, index) => {
    if (!Number.isInteger(id) || id < -2147483648 || id > 2147483647) {
      throw new InvalidArgumentError(`token ids must be 32-bit integers, got ${id} at flat index ${index}`);
    }
  });
  const data = dtype === 'int64' ? BigInt64Array.from(flat, (id) => BigInt(id)) : Int32Array.from(flat);
  return { dtype, data, shape: [batch, length] };
}

function checkShape(input: ValueInfo, batch: number, length: number): void {
  const actual = [batch, length];
  if (input.shape.length !== 2) {
    throw new ShapeMismatchError(`model input "${input.name}"`, input.shape.map(String), actual);
  }
  input.shape.forEach((dim, axis) => {
    if (typeof dim === 'number' && dim !== actual[axis]) {
      throw new ShapeMismatchError(
        `token ids for model input "${input.name}"`,
        input.shape.map((d) => d ?? '?'),
        actual,
      );
    }
  });
}
