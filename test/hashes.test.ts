import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";
import { bmvbhash } from "blockhash-core";
import sharp from "sharp";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import {
  bytesToHash,
  DHASH_GRID,
  dhashFromGrey,
  hamming,
  hashToBytes,
  hashToHex,
  hexToHash,
  PHASH_GRID,
  phashFromGrey,
} from "../src/retrieval/hashes.ts";
import { datasetsDir } from "./support/paths.ts";
import { seededRandom } from "./support/vectors.ts";

// sharp-phash is CommonJS with `module.exports = phash`, but its typings declare `export default`,
// which TypeScript (NodeNext) would resolve to a `.default` that does not exist at run time.
const sharpPhash = createRequire(import.meta.url)("sharp-phash") as typeof import("sharp-phash").default;

const SIDE = PHASH_GRID.width;
const ALL_ONES = 0xffffffffffffffffn;

/** A 32×32 grid from f(x, y), rounded and clamped to 0..255. */
function gridOf(f: (x: number, y: number) => number, width: number = SIDE, height: number = SIDE): Uint8Array {
  const grid = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) grid[y * width + x] = clamp255(Math.round(f(x, y)));
  }
  return grid;
}

function clamp255(v: number): number {
  return Math.max(0, Math.min(255, v));
}

/** A smooth synthetic "photo": four low-frequency plane waves around mid-grey. */
function smoothGrid(seed: number): Uint8Array {
  const random = seededRandom(seed);
  const waves = Array.from({ length: 4 }, () => ({
    fx: random() * 3,
    fy: random() * 3,
    phase: random() * 2 * Math.PI,
    amplitude: 15 + random() * 25,
  }));
  return gridOf((x, y) => waves.reduce((v, w) => v + w.amplitude * Math.cos((2 * Math.PI * (w.fx * x + w.fy * y)) / SIDE + w.phase), 128));
}

function blob(cx: number, cy: number): Uint8Array {
  return gridOf((x, y) => 40 + 180 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 50));
}

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** ±2 grey levels on a random `fraction` of the pixels. */
function noisy(grid: Uint8Array, seed: number, fraction = 0.25): Uint8Array {
  const random = seededRandom(seed);
  return grid.map((v) => (random() < fraction ? clamp255(v + (random() < 0.5 ? -2 : 2)) : v));
}

function transpose(grid: Uint8Array, side: number): Uint8Array {
  return grid.map((_, i) => grid[(i % side) * side + Math.floor(i / side)]!);
}

/** Bit (r, c) of the 8×8 matrix ↔ bit (c, r); bit i of the matrix is bit 63−i of the hash. */
function transposeBits(h: bigint): bigint {
  let out = 0n;
  for (let i = 0; i < 64; i++) {
    const bit = (h >> BigInt(63 - i)) & 1n;
    const j = (i % 8) * 8 + Math.floor(i / 8);
    out |= bit << BigInt(63 - j);
  }
  return out;
}

function throwsLookalike(f: () => unknown): void {
  assert.throws(f, (error: unknown) => isLookalikeError(error));
}

describe("hamming", () => {
  it("counts differing bits", () => {
    assert.equal(hamming(0n, 0n), 0);
    assert.equal(hamming(0n, ALL_ONES), 64);
    assert.equal(hamming(0b1011n, 0b0001n), 2);
    assert.equal(hamming(1n << 63n, 1n), 2);
    assert.equal(hamming(0x0123456789abcdefn, 0xfedcba9876543210n), 64);
    assert.equal(hamming(0xf0f0f0f0f0f0f0f0n, 0x0ff0f0f0f0f0f0f0n), 8);
    assert.equal(hamming(0x8000000100000000n, 0x0000000180000000n), 2); // bits either side of the 32-bit split
  });

  it("reads signed int64 values as their two's-complement bits", () => {
    assert.equal(hamming(-1n, ALL_ONES), 0);
    assert.equal(hamming(-1n, 0n), 64);
  });
});

describe("hash encodings", () => {
  it("formats 16 zero-padded lowercase hex digits", () => {
    assert.equal(hashToHex(0n), "0000000000000000");
    assert.equal(hashToHex(0xabcn), "0000000000000abc");
    assert.equal(hashToHex(ALL_ONES), "ffffffffffffffff");
  });

  it("round-trips through hex and bytes", () => {
    const random = seededRandom(7);
    const samples = [0n, 1n, ALL_ONES, 1n << 63n];
    for (let i = 0; i < 50; i++) {
      samples.push((BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)));
    }
    for (const h of samples) {
      assert.equal(hexToHash(hashToHex(h)), h);
      assert.equal(bytesToHash(hashToBytes(h)), h);
    }
    assert.equal(hexToHash("ABCDEF0123456789"), 0xabcdef0123456789n);
  });

  it("stores bytes big-endian, in the hex string's order", () => {
    assert.deepEqual([...hashToBytes(0x0102030405060708n)], [1, 2, 3, 4, 5, 6, 7, 8]);
    const view = new Uint8Array([0xee, 1, 2, 3, 4, 5, 6, 7, 8, 0xee]).subarray(1, 9); // a view at an offset, as Arrow hands out
    assert.equal(bytesToHash(view), 0x0102030405060708n);
    assert.equal(bytesToHash(Buffer.from(hashToBytes(0xdeadbeefn))), 0xdeadbeefn);
  });

  it("rejects malformed input", () => {
    for (const bad of ["", "abc", "0x0123456789abcd", "0123456789abcdef0", "0123456789abcdeg", " 0123456789abcdef"]) {
      throwsLookalike(() => hexToHash(bad));
    }
    throwsLookalike(() => hashToHex(-1n));
    throwsLookalike(() => hashToHex(1n << 64n));
    throwsLookalike(() => hashToBytes(1n << 64n));
    throwsLookalike(() => bytesToHash(new Uint8Array(7)));
    throwsLookalike(() => phashFromGrey(new Uint8Array(31 * 32)));
    throwsLookalike(() => dhashFromGrey(new Uint8Array(64)));
  });
});

describe("dHash", () => {
  const { width, height } = DHASH_GRID;

  it("sets a bit where brightness increases to the right (imagehash's pixels[:, 1:] > pixels[:, :-1])", () => {
    const rising = gridOf((x) => 20 + x * 25, width, height);
    assert.equal(dhashFromGrey(rising), ALL_ONES);
    const mirrored = gridOf((x) => 20 + (width - 1 - x) * 25, width, height);
    assert.equal(dhashFromGrey(mirrored), 0n);
    // Equal neighbours are not "greater": a vertical gradient has no horizontal differences.
    assert.equal(dhashFromGrey(gridOf((_, y) => y * 30, width, height)), 0n);
  });

  it("reads the bit matrix row-major, most significant bit first", () => {
    const grid = new Uint8Array(width * height);
    grid[1] = 1; // row 0: p[0][1] > p[0][0] → matrix bit 0, and p[0][2] < p[0][1]
    grid[7 * width + 8] = 1; // row 7: p[7][8] > p[7][7] → matrix bit 63
    assert.equal(dhashFromGrey(grid), (1n << 63n) | 1n);
  });
});

describe("pHash", () => {
  it("gives every flat image the same hash, and is deterministic", () => {
    // All AC coefficients are zero (the median), so only the DC bit — the first — is set.
    for (const level of [1, 17, 128, 255]) {
      assert.equal(phashFromGrey(new Uint8Array(SIDE * SIDE).fill(level)), 1n << 63n);
    }
    assert.equal(phashFromGrey(new Uint8Array(SIDE * SIDE)), 0n); // black: every coefficient is 0
    const grid = smoothGrid(3);
    assert.equal(phashFromGrey(grid), phashFromGrey(grid.slice()));
  });

  it("treats rows as the vertical frequency: transposing the image transposes the bit matrix", () => {
    for (const grid of [smoothGrid(1), blob(8, 20), randomBytes(SIDE * SIDE, 5)]) {
      assert.equal(phashFromGrey(transpose(grid, SIDE)), transposeBits(phashFromGrey(grid)));
    }
  });

  it("matches imagehash's algorithm bit for bit on the same grid", () => {
    // Expected values from scipy 1.17, exactly as imagehash 4.3 does it after its resize:
    //   dct = scipy.fftpack.dct(scipy.fftpack.dct(grid, axis=0), axis=1)[:8, :8]
    //   bits = dct > numpy.median(dct)   (dHash: grid[:, 1:] > grid[:, :-1]), hex of the flattened bits
    // with the grids below written out by this file's generators.
    assert.equal(hashToHex(phashFromGrey(randomBytes(SIDE * SIDE, 42))), "c7070417fd7456c6");
    assert.equal(hashToHex(phashFromGrey(smoothGrid(1))), "a7fc2963c1624a1f");
    assert.equal(hashToHex(phashFromGrey(blob(8, 20))), "c03f3fc03f3fc0c0");
    assert.equal(hashToHex(dhashFromGrey(randomBytes(DHASH_GRID.width * DHASH_GRID.height, 43))), "5beb9553b47a2bc4");
  });

  it("stays within Hamming 4 when a smooth image gets ±2 grey levels of noise", () => {
    for (const seed of [1, 2, 3, 4]) {
      const grid = smoothGrid(seed);
      const original = phashFromGrey(grid);
      for (let n = 0; n < 10; n++) {
        const distance = hamming(original, phashFromGrey(noisy(grid, 1000 * seed + n)));
        assert.ok(distance <= 4, `smooth image ${seed}, noise ${n}: Hamming ${distance}`);
      }
    }
  });

  it("keeps different images far apart", () => {
    assert.ok(hamming(phashFromGrey(blob(8, 8)), phashFromGrey(blob(24, 24))) > 20);
    const checker = gridOf((x, y) => (((x >> 3) + (y >> 3)) % 2 ? 220 : 30));
    assert.ok(hamming(phashFromGrey(checker), phashFromGrey(blob(8, 8))) > 20);
  });
});

/**
 * Cross-check with the peers on real photos. Bits differ by design (see hashes.ts: sharp-phash
 * drops the DC row/column and thresholds at the mean; blockhash is another algorithm), so what
 * must agree is the ranking: each edited copy's nearest original is its own, under every hash.
 */
describe("pHash against peer packages on real photos", () => {
  const photoDir = path.join(datasetsDir, "photo-pool-cc", "images");
  const dedupDir = path.join(datasetsDir, "peer-tests", "imagededup");
  const skip = existsSync(photoDir) && existsSync(dedupDir) ? false : "shared datasets not available";

  type Input = string | Buffer;
  const hashers: Record<string, (input: Input) => Promise<bigint>> = {
    ours: async (input) => phashFromGrey(await grey32(input)),
    "sharp-phash": async (input) => BigInt(`0b${await sharpPhash(input)}`),
    "blockhash-core": async (input) => {
      const { data, info } = await sharp(input)
        .rotate()
        .resize(256, 256, { fit: "inside" })
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return hexToHash(bmvbhash({ width: info.width, height: info.height, data }, 8));
    },
  };

  /** The grid the way fingerprinting makes it (and sharp-phash: same sharp pipeline). */
  async function grey32(input: Input): Promise<Uint8Array> {
    return sharp(input).rotate().greyscale().resize(SIDE, SIDE, { fit: "fill" }).raw().toBuffer();
  }

  async function hashAll(inputs: Input[]): Promise<Record<string, bigint[]>> {
    const entries = await Promise.all(
      Object.entries(hashers).map(async ([name, hash]) => [name, await Promise.all(inputs.map(hash))] as const),
    );
    return Object.fromEntries(entries);
  }

  function nearest(query: bigint, candidates: bigint[]): number {
    let best = 0;
    candidates.forEach((c, i) => {
      if (hamming(query, c) < hamming(query, candidates[best]!)) best = i;
    });
    return best;
  }

  it("finds each re-encoded, downscaled, brightened copy's original, like the peers", { skip }, async () => {
    const files = readdirSync(photoDir)
      .filter((f) => f.endsWith(".jpg"))
      .sort()
      .map((f) => path.join(photoDir, f));
    const copies = await Promise.all(
      files.map((f) => sharp(f).resize({ width: 400 }).modulate({ brightness: 1.08 }).jpeg({ quality: 60 }).toBuffer()),
    );
    const [originals, edited] = await Promise.all([hashAll(files), hashAll(copies)]);
    for (const name of Object.keys(hashers)) {
      edited[name]!.forEach((h, i) => {
        assert.equal(nearest(h, originals[name]!), i, `${name}: copy of ${path.basename(files[i]!)}`);
      });
    }
    // Our margin: copies within 8 bits of their original, unrelated photos at least 16 apart.
    const ours = originals.ours!;
    edited.ours!.forEach((h, i) => {
      assert.ok(hamming(h, ours[i]!) <= 8, path.basename(files[i]!));
      ours.forEach((o, j) => j !== i && assert.ok(hamming(h, o) >= 16, `${i} vs ${j}`));
    });
  });

  it("matches imagededup's resized and greyscale copies to their original, like sharp-phash", { skip }, async () => {
    const base = readdirSync(path.join(dedupDir, "base_images"))
      .sort()
      .map((f) => path.join(dedupDir, "base_images", f));
    const queries = [path.join(dedupDir, "mixed_images", "ukbench00120_resize.jpg"), path.join(dedupDir, "ukbench00120_gray.jpg")];
    const target = base.findIndex((f) => path.basename(f) === "ukbench00120.jpg");
    const ours = await Promise.all(base.map(hashers.ours!));
    const peer = await Promise.all(base.map(hashers["sharp-phash"]!));
    for (const query of queries) {
      assert.equal(nearest(await hashers.ours!(query), ours), target, path.basename(query));
      assert.equal(nearest(await hashers["sharp-phash"]!(query), peer), target, path.basename(query));
    }
    // (Neither pHash matches the hflip/rotation copies: a DCT hash is not mirror- or rotation-invariant.)
  });
});
