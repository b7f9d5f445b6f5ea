/**
 * 64-bit perceptual hashes of small greyscale grids, and their Hamming distance. Pure functions:
 * the caller resizes the image to the grid (PHASH_GRID / DHASH_GRID, 8-bit grey, row-major).
 *
 * Conventions follow Python's `imagehash` 4.x so hashes can be compared with its users:
 * bit i of the 8×8 bit matrix (row-major) is bit 63−i of the bigint, i.e. the hex string reads
 * the matrix row by row, most significant bit first — exactly `str(imagehash.phash(img))`.
 * (Bit-identical results also need the same grid, and PIL's LANCZOS resize differs from sharp's.)
 *
 * Peers installed as devDependencies, for reference (compared on real photos in the tests):
 * - `sharp-phash` 2.2: same 32×32 sharp grid and DCT-II, but it keeps coefficients [1..8]×[1..8]
 *   (drops the DC row and column), thresholds at their mean instead of the median, and emits
 *   the bits column-major as a "0"/"1" string. So bits differ from ours, rankings agree.
 * - `blockhash-core` 0.1: blockhash (Yang et al. 2006), mean brightness of 8×8 blocks of the RGBA
 *   image compared with the median of each quarter — a different hash, not a pHash variant.
 */
import { LookalikeError } from "./errors.ts";

export const PHASH_GRID = { width: 32, height: 32 } as const;
export const DHASH_GRID = { width: 9, height: 8 } as const;

/** The hash is an 8×8 bit matrix. */
const SIDE = 8;
const BITS = SIDE * SIDE;
const N = PHASH_GRID.width;
const MAX_HASH = (1n << 64n) - 1n;

/**
 * DCT-II basis, only the 8 lowest frequencies (the hash keeps no others, so the full 32×32
 * transform would be wasted work): COS[u·32 + n] = cos(π·u·(2n+1)/64).
 * imagehash uses scipy's unnormalised DCT-II (2·Σ x_n cos(...)); a constant factor on every
 * coefficient cannot change which ones exceed the median, so it is left out. An orthonormal
 * DCT would NOT be equivalent: it scales the u = 0 / v = 0 coefficients by 1/√2 relative to the rest.
 */
const COS = (() => {
  const table = new Float64Array(SIDE * N);
  for (let u = 0; u < SIDE; u++) {
    for (let n = 0; n < N; n++) table[u * N + n] = Math.cos((Math.PI * u * (2 * n + 1)) / (2 * N));
  }
  return table;
})();

/**
 * Coefficients below this are rounding noise (the double sums here err by < 1e-8 at worst):
 * mathematically zero coefficients — every one of them for a flat image, whole rows for a
 * gradient — would otherwise take random bits from the signs of the noise.
 */
const DCT_ZERO = 1e-6;

// Scratch buffers, reused: hashing is synchronous, so no two calls can interleave.
const columnPass = new Float64Array(SIDE * N); // T[u][x] = Σ_y COS[u][y]·p[y][x]
const lowFrequencies = new Float64Array(BITS); // F[u][v] = Σ_x T[u][x]·COS[v][x]
const sorted = new Float64Array(BITS);

/**
 * 64-bit DCT pHash (Zauner 2010; as `imagehash.phash`): 32×32 grey → 2-D DCT-II → the top-left
 * 8×8 block (DC term included, as imagehash does) → bit = coefficient > median of the 64.
 * u (row of the block) is the vertical frequency, v the horizontal one.
 */
export function phashFromGrey(grey32x32: Uint8Array): bigint {
  checkGrid(grey32x32, PHASH_GRID, "pHash");
  lowFrequencyDct(grey32x32);
  sorted.set(lowFrequencies);
  sorted.sort();
  const median = (sorted[BITS / 2 - 1]! + sorted[BITS / 2]!) / 2; // numpy.median of an even count
  return packBits((i) => lowFrequencies[i]! > median);
}

/**
 * 64-bit dHash (Krawetz's "difference hash", as `imagehash.dhash`): 9×8 grey (9 wide, 8 high,
 * row-major) → bit (r, c) = p[r][c+1] > p[r][c], imagehash's `pixels[:, 1:] > pixels[:, :-1]`:
 * a bit is 1 where brightness increases to the right.
 */
export function dhashFromGrey(grey9x8: Uint8Array): bigint {
  checkGrid(grey9x8, DHASH_GRID, "dHash");
  const w = DHASH_GRID.width;
  return packBits((i) => {
    const left = Math.floor(i / SIDE) * w + (i % SIDE);
    return grey9x8[left + 1]! > grey9x8[left]!;
  });
}

/**
 * Number of differing bits. Inputs are read as 64-bit two's complement, so a hash stored in a
 * signed int64 column (e.g. −1n for all ones) compares equal to its unsigned form.
 */
export function hamming(a: bigint, b: bigint): number {
  const x = BigInt.asUintN(64, a ^ b);
  return popcount32(Number(x & 0xffffffffn)) + popcount32(Number(x >> 32n));
}

/** 16 lowercase hex digits, zero-padded (imagehash's `str(hash)` for a 64-bit hash). */
export function hashToHex(h: bigint): string {
  checkHash(h);
  return h.toString(16).padStart(16, "0");
}

/** Parses exactly 16 hex digits (either case, no prefix). */
export function hexToHash(hex: string): bigint {
  if (typeof hex !== "string" || !/^[0-9a-fA-F]{16}$/.test(hex)) {
    throw new LookalikeError("internal", "A 64-bit hash must be exactly 16 hex digits.", { hex });
  }
  return BigInt(`0x${hex}`);
}

/** 8 bytes, big-endian (so byte order matches the hex string), for a fixed-size binary column. */
export function hashToBytes(h: bigint): Uint8Array {
  checkHash(h);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, h, false);
  return bytes;
}

export function bytesToHash(b: Uint8Array): bigint {
  if (!(b instanceof Uint8Array) || b.length !== 8) {
    throw new LookalikeError("internal", `A 64-bit hash needs 8 bytes, got ${b?.length}.`);
  }
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
}

// ---------------------------------------------------------------------------------------------

/** Separable DCT-II of the 32×32 grid, low 8×8 block only, into `lowFrequencies`. */
function lowFrequencyDct(grey: Uint8Array): void {
  columnPass.fill(0);
  for (let u = 0; u < SIDE; u++) {
    const out = u * N;
    for (let y = 0; y < N; y++) {
      const c = COS[u * N + y]!;
      const row = y * N;
      for (let x = 0; x < N; x++) columnPass[out + x]! += c * grey[row + x]!;
    }
  }
  for (let u = 0; u < SIDE; u++) {
    for (let v = 0; v < SIDE; v++) {
      let sum = 0;
      for (let x = 0; x < N; x++) sum += columnPass[u * N + x]! * COS[v * N + x]!;
      lowFrequencies[u * SIDE + v] = Math.abs(sum) < DCT_ZERO ? 0 : sum;
    }
  }
}

/** Bit i (0 = first, row-major) becomes bit 63−i, so the hash reads most significant bit first. */
function packBits(bitAt: (i: number) => boolean): bigint {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 32; i++) hi = ((hi << 1) | (bitAt(i) ? 1 : 0)) >>> 0;
  for (let i = 32; i < BITS; i++) lo = ((lo << 1) | (bitAt(i) ? 1 : 0)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** SWAR popcount (Hacker's Delight 5-1). */
function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function checkGrid(grey: Uint8Array, grid: { readonly width: number; readonly height: number }, name: string): void {
  if (!(grey instanceof Uint8Array) || grey.length !== grid.width * grid.height) {
    throw new LookalikeError(
      "internal",
      `${name} needs a ${grid.width}×${grid.height} greyscale grid (${grid.width * grid.height} bytes), got ${grey?.length}.`,
    );
  }
}

function checkHash(h: bigint): void {
  if (typeof h !== "bigint" || h < 0n || h > MAX_HASH) {
    throw new LookalikeError("internal", "A 64-bit hash must be a bigint in [0, 2^64).", { hash: String(h) });
  }
}
