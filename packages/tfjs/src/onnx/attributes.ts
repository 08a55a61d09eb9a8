import { InvalidArgumentError } from '@noiserefine/core';
import { type AttributeProto, type NodeProto, onnx, type TensorProto } from '@noiserefine/onnx';
import { type Int64Like, toNumber } from './tensor-proto';

const AT = onnx.AttributeProto.AttributeType;
const text = new TextDecoder();

/** Typed access to a node's attributes, with defaults and errors naming the node. */
export class NodeAttributes {
  readonly #byName: Map<string, AttributeProto>;

  constructor(readonly node: NodeProto) {
    // Decoded models hold AttributeProto instances (every field present).
    this.#byName = new Map((node.attribute as AttributeProto[]).map((a) => [a.name, a]));
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  #get(name: string, type: number, typeName: string): AttributeProto | undefined {
    const a = this.#byName.get(name);
    if (a && a.type !== type && a.type !== AT.UNDEFINED) {
      throw new InvalidArgumentError(
        `node "${this.node.name}" (${this.node.opType}): attribute "${name}" should be ${typeName}, got type ${AT[a.type] ?? a.type}`,
      );
    }
    return a;
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.#get(name, AT.INT, 'an int');
    return a ? toNumber(a.i as Int64Like) : fallback;
  }

  ints(name: string, fallback: number[]): number[];
  ints(name: string): number[] | undefined;
  ints(name: string, fallback?: number[]): number[] | undefined {
    const a = this.#get(name, AT.INTS, 'a list of ints');
    return a ? a.ints.map((v) => toNumber(v as Int64Like)) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.#get(name, AT.FLOAT, 'a float');
    return a ? a.f : fallback;
  }

  floats(name: string): number[] | undefined {
    const a = this.#get(name, AT.FLOATS, 'a list of floats');
    return a ? [...a.floats] : undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const a = this.#get(name, AT.STRING, 'a string');
    return a ? text.decode(a.s) : fallback;
  }

  tensor(name: string): TensorProto | undefined {
    const a = this.#get(name, AT.TENSOR, 'a tensor');
    return a?.t ? onnx.TensorProto.fromObject(a.t) : undefined;
  }
}
