import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@noiserefine/core';
import { getConstantSchedule, type LearningRateSchedule } from './schedules';
import type { Gradients } from './value-and-grads';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

export interface OptimizerOptions {
  /** Base learning rate; the schedule multiplies it. */
  lr: number;
  schedule?: LearningRateSchedule;
  weightDecay?: number;
}

function positive(value: number, what: string, allowZero = false): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidArgumentError(
      `${what}: expected a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`,
    );
  }
}

/**
 * An optimizer over tf.Variables whose per-variable state ("slots") can be saved and
 * restored. Step t (0-based) uses lr · schedule(t), as torch's LambdaLR does.
 */
export abstract class Optimizer {
  abstract readonly kind: OptimizerKind;
  /** The state kept per variable, e.g. ['m', 'v'] for Adam. */
  abstract readonly slotNames: readonly string[];
  readonly lr: number;
  readonly schedule: LearningRateSchedule;
  readonly weightDecay: number;
  #stepCount = 0;
  readonly #slots = new Map<string, Map<tf.Variable, tf.Variable>>();

  constructor(options: OptimizerOptions, defaultWeightDecay: number) {
    positive(options.lr, 'lr', true);
    this.lr = options.lr;
    this.schedule = options.schedule ?? getConstantSchedule();
    this.weightDecay = options.weightDecay ?? defaultWeightDecay;
    positive(this.weightDecay, 'weightDecay', true);
  }

  /** Optimizer steps taken so far. */
  get stepCount(): number {
    return this.#stepCount;
  }

  /** The learning rate the next step will use. */
  get currentLearningRate(): number {
    return this.lr * this.schedule(this.#stepCount);
  }

  /** Hyperparameters, for checkpoints and logs. */
  abstract config(): Record<string, number | boolean>;

  protected abstract update(variable: tf.Variable, grad: tf.Tensor, lr: number, step: number): void;

  /** The slot `name` of `variable`, created as zeros on first use. */
  protected slot(name: string, variable: tf.Variable, initial?: () => tf.Tensor): tf.Variable {
    let perVariable = this.#slots.get(name);
    if (!perVariable) {
      perVariable = new Map();
      this.#slots.set(name, perVariable);
    }
    let s = perVariable.get(variable);
    if (!s) {
      s = tf.tidy(() => tf.variable(initial ? initial() : tf.zerosLike(variable), false));
      perVariable.set(variable, s);
    }
    return s;
  }

  protected hasSlot(name: string, variable: tf.Variable): boolean {
    return this.#slots.get(name)?.has(variable) ?? false;
  }

  /** Applies one update from gradients (which stay owned by the caller). */
  step(grads: Gradients): void {
    const lr = this.currentLearningRate;
    const t = this.#stepCount + 1;
    for (const [variable, grad] of grads) {
      if (grad.shape.some((d, i) => d !== variable.shape[i]) || grad.rank !== variable.rank) {
        throw new InvalidArgumentError(
          `gradient of "${variable.name}" has shape [${grad.shape.join(', ')}], the variable [${variable.shape.join(', ')}]`,
        );
      }
      tf.tidy(() => this.update(variable, grad, lr, t));
    }
    this.#stepCount = t;
  }

  /** Per-slot state, by variable. */
  slots(): ReadonlyMap<string, ReadonlyMap<tf.Variable, tf.Variable>> {
    return this.#slots;
  }

  /** Restores state saved from an optimizer of the same kind. */
  restore(stepCount: number, slots: ReadonlyMap<string, ReadonlyMap<tf.Variable, tf.Tensor>>): void {
    for (const [name, perVariable] of slots) {
      if (!this.slotNames.includes(name)) {
        throw new InvalidArgumentError(
          `${this.kind} has no optimizer slot "${name}"; its slots are ${this.slotNames.join(', ')}`,
        );
      }
      for (const [variable, value] of perVariable) this.slot(name, variable).assign(value);
    }
    this.#stepCount = stepCount;
  }

  dispose(): void {
    for (const perVariable of this.#slots.values()) for (const s of perVariable.values()) s.dispose();
    this.#slots.clear();
  }
}

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD (dampening 0): L2 weight decay, optional (Nesterov) momentum. */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  readonly slotNames = ['momentum'] as const;
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(options: SGDOptions) {
    super(options, 0);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    positive(this.momentum, 'momentum', true);
    if (this.nesterov && this.momentum === 0) {
      throw new InvalidArgumentError(
        'nesterov: expected momentum > 0 with Nesterov momentum, got momentum 0',
      );
    }
  }

  config() {
    return { lr: this.lr, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected update(variable: tf.Variable, grad: tf.Tensor, lr: number): void {
    let d = this.weightDecay === 0 ? grad : tf.add(grad, tf.mul(variable, this.weightDecay));
    if (this.momentum !== 0) {
      const first = !this.hasSlot('momentum', variable);
      const buffer = this.slot('momentum', variable);
      buffer.assign(first ? d : tf.add(tf.mul(buffer, this.momentum), d));
      d = this.nesterov ? tf.add(d, tf.mul(buffer, this.momentum)) : buffer;
    }
    variable.assign(tf.sub(variable, tf.mul(d, lr)));
  }
}

export interface AdamOptions extends OptimizerOptions {
  betas?: readonly [number, number];
  eps?: number;
}

/** Adam as torch.optim.Adam (L2 weight decay) or AdamW (decoupled weight decay). */
class AdamFamily extends Optimizer {
  readonly slotNames = ['m', 'v'] as const;
  readonly betas: readonly [number, number];
  readonly eps: number;

  constructor(
    readonly kind: 'adam' | 'adamw',
    options: AdamOptions,
  ) {
    super(options, kind === 'adamw' ? 0.01 : 0);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    for (const b of this.betas) {
      if (!(b >= 0 && b < 1))
        throw new InvalidArgumentError(`betas: expected values in [0, 1), got [${this.betas.join(', ')}]`);
    }
    positive(this.eps, 'eps', true);
  }

  config() {
    return {
      lr: this.lr,
      beta1: this.betas[0],
      beta2: this.betas[1],
      eps: this.eps,
      weightDecay: this.weightDecay,
    };
  }

  protected update(variable: tf.Variable, grad: tf.Tensor, lr: number, t: number): void {
    const [b1, b2] = this.betas;
    let g = grad;
    if (this.weightDecay !== 0) {
      if (this.kind === 'adamw') variable.assign(tf.mul(variable, 1 - lr * this.weightDecay));
      else g = tf.add(g, tf.mul(variable, this.weightDecay));
    }
    const m = this.slot('m', variable);
    const v = this.slot('v', variable);
    m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
    v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
    const stepSize = lr / (1 - b1 ** t);
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** t)), this.eps);
    variable.assign(tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)));
  }
}

/** torch.optim.Adam: weight decay as an L2 term added to the gradient. */
export class Adam extends AdamFamily {
  constructor(options: AdamOptions) {
    super('adam', options);
  }
}

/** torch.optim.AdamW: decoupled weight decay (default 0.01), p ← p·(1 − lr·wd) before the Adam step. */
export class AdamW extends AdamFamily {
  constructor(options: AdamOptions) {
    super('adamw', options);
  }
}

/** Builds an optimizer of a kind (as a checkpoint names it). */
export function createOptimizer(kind: OptimizerKind, options: AdamOptions & SGDOptions): Optimizer {
  switch (kind) {
    case 'sgd':
      return new SGD(options);
    case 'adam':
      return new Adam(options);
    case 'adamw':
      return new AdamW(options);
    default:
      throw new InvalidArgumentError(`optimizer kind: expected sgd, adam or adamw, got ${String(kind)}`);
  }
}
