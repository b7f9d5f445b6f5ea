/**
 * Contender 2, perceptual hashes as peer projects use them, each computed by the code that peers
 * actually run: our pHash/dHash (src/retrieval/hashes.ts, on the same greyscale grids the
 * fingerprint uses), `sharp-phash` on the file bytes, and blockhash 16×16 through `imghash`
 * (which decodes the file itself and calls `blockhash-core`'s bmvbhash). Ranking is by Hamming
 * distance. Bits are kept as 32-bit words, so a distance is a few popcounts.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const sharpPhash = require("sharp-phash") as (image: Buffer) => Promise<string>;
const imghash = require("imghash") as { hash(file: string | Buffer, bits: number, format: "binary"): Promise<string> };

export const HASH_NAMES = ["dhash64", "phash64", "sharp-phash", "blockhash256"] as const;
export type HashName = (typeof HASH_NAMES)[number];
export const HASH_BITS: Record<HashName, number> = { dhash64: 64, phash64: 64, "sharp-phash": 64, blockhash256: 256 };

/** Bits of a hash, most significant first, packed into 32-bit words. */
export type Bits = Uint32Array;

export function bitsFromBinary(binary: string): Bits {
  if (!/^[01]+$/.test(binary) || binary.length % 32 !== 0) throw new Error(`not a bit string: ${binary.slice(0, 40)}`);
  return Uint32Array.from({ length: binary.length / 32 }, (_, w) => parseInt(binary.slice(w * 32, w * 32 + 32), 2) >>> 0);
}

export const bitsFromBigint = (h: bigint): Bits => bitsFromBinary(h.toString(2).padStart(64, "0"));

export function hammingBits(a: Bits, b: Bits): number {
  let distance = 0;
  for (let w = 0; w < a.length; w++) distance += popcount32((a[w]! ^ b[w]!) >>> 0);
  return distance;
}

/** The two npm peers, on the file's bytes. */
export async function peerHashes(bytes: Buffer): Promise<{ sharpPhash: Bits; blockhash: Bits }> {
  const [phash, block] = await Promise.all([sharpPhash(bytes), imghash.hash(bytes, 16, "binary")]);
  return { sharpPhash: bitsFromBinary(phash), blockhash: bitsFromBinary(block) };
}

function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
