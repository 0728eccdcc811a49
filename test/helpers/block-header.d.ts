// Types of block-header.js (plain JavaScript so that child processes running the built
// library can load it without a TypeScript loader).

/** A deterministic xorshift32 generator: a seed selects a reproducible run. */
export declare class Rng {
  constructor(seed: number);
  next(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
}

/** What a read-back block holds. */
export type ParsedBlock = { state: 'empty' } | { state: 'torn' } | { state: 'ok'; lba: number; seq: number };

/** Fills one block with the header and payload of (lba, seq). */
export declare function fillBlock(block: Uint8Array, lba: number, seq: number): void;
/** Decodes one block. */
export declare function parseBlock(block: Uint8Array): ParsedBlock;
export declare const MAGIC: number;
