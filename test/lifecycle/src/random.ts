/**
 * A seeded pseudo-random source (mulberry32), so that a failing random run
 * can be replayed from the seed it prints.
 */
import { randomInt } from 'node:crypto';

export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Each item kept with probability 1/2, in order. */
  subset<T>(items: readonly T[]): T[] {
    return items.filter(() => this.chance(0.5));
  }

  /** A seed for a derived source, so that one run's parts do not shift each other's draws. */
  seed(): number {
    return this.int(0, 0xffffffff);
  }
}

/**
 * The seed from the environment variable `variable` (decimal), or a fresh
 * random one; either way the caller prints it with any failure.
 */
export function seedFromEnv(variable: string): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return randomInt(0, 2 ** 32 - 1);
  if (!/^[0-9]+$/.test(text) || Number(text) > 0xffffffff) throw new Error(`${variable}=${text} is not a seed (0 to 4294967295)`);
  return Number(text);
}
