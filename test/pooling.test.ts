import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import {
  crow,
  crowChannelWeights,
  crowSpatialWeights,
  type FeatureMap,
  gem,
  mac,
  POOLING_NAMES,
  pool,
  poolBatch,
  type Region,
  rmac,
  rmacRegions,
  spoc,
} from "../src/retrieval/pooling.ts";
import { dot, dotsWith, l2normalize } from "../src/retrieval/vectors.ts";
import { seededRandom } from "./support/vectors.ts";

/** A CHW map from per-channel planes (each row-major H×W). */
function mapOf(planes: number[][], height: number, width: number): FeatureMap {
  return { data: Float32Array.from(planes.flat()), channels: planes.length, height, width };
}

/** A post-ReLU6-like map: about 60% zeros, the rest in (0, 6]. */
function randomMap(channels: number, height: number, width: number, seed: number): FeatureMap {
  const random = seededRandom(seed);
  const data = Float32Array.from({ length: channels * height * width }, () => (random() < 0.6 ? 0 : 6 * random()));
  return { data, channels, height, width };
}

function normalized(values: number[]): number[] {
  const norm = Math.hypot(...values);
  return values.map((v) => v / norm);
}

function norm(v: Float32Array): number {
  return Math.sqrt(dot(v, v));
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-6, message = ""): void {
  assert.equal(actual.length, expected.length, message);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `${message}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

// C = 2, H = W = 2. Planes are row-major: [top-left, top-right, bottom-left, bottom-right].
const small = mapOf(
  [
    [1, 2, 3, 4],
    [0, 0, 0, 8],
  ],
  2,
  2,
);

describe("every pooling", () => {
  const map = randomMap(1280, 7, 7, 1);

  for (const name of POOLING_NAMES) {
    it(`${name}: a unit vector of length C, no NaN`, () => {
      const v = pool(name, map);
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, 1280);
      assert.ok(v.every(Number.isFinite));
      assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
    });

    it(`${name}: an all-zero map gives a finite vector (zero, or uniform for GeM's ε clamp)`, () => {
      const v = pool(name, { data: new Float32Array(64 * 7 * 7), channels: 64, height: 7, width: 7 });
      assert.equal(v.length, 64);
      assert.ok(v.every(Number.isFinite));
      if (name === "gem") assertClose(v, new Array(64).fill(1 / 8));
      else assert.ok(v.every((x) => x === 0));
    });
  }

  it("leaves the input untouched", () => {
    const before = map.data.slice();
    for (const name of POOLING_NAMES) pool(name, map);
    assert.deepEqual(map.data, before);
  });

  it("is unchanged by moving a feature blob within the map (global pools only)", () => {
    const blob = [
      [0.5, 2, 0.5],
      [2, 6, 1],
      [0, 1, 0.25],
    ];
    const channels = 4;
    const place = (top: number, left: number): FeatureMap => {
      const planes = Array.from({ length: channels }, (_, k) => {
        const plane = new Array(49).fill(0);
        blob.forEach((row, y) => row.forEach((v, x) => (plane[(top + y) * 7 + left + x] = v * (k + 1) + (k === 2 ? x : 0))));
        return plane;
      });
      return mapOf(planes, 7, 7);
    };
    const a = place(1, 1);
    const b = place(3, 4);
    // The same values summed/maxed in the same order: bit-identical.
    assert.deepEqual(spoc(a), spoc(b));
    assert.deepEqual(mac(a), mac(b));
    // ε-clamped zeros and spatial weights are visited in another order: equal up to rounding.
    assertClose(gem(a), gem(b), 1e-6, "gem");
    assertClose(crow(a), crow(b), 1e-6, "crow");
  });

  it("rejects maps whose data does not match their shape", () => {
    const bad = { data: new Float32Array(10), channels: 2, height: 2, width: 2 };
    for (const name of POOLING_NAMES)
      assert.throws(
        () => pool(name, bad),
        (e: unknown) => isLookalikeError(e, "internal"),
      );
    assert.throws(
      () => pool("nope" as never, small),
      (e: unknown) => isLookalikeError(e, "internal"),
    );
  });
});

describe("SPoC, MAC and GeM by hand", () => {
  it("SPoC sums each channel", () => {
    assertClose(spoc(small), normalized([1 + 2 + 3 + 4, 8]));
  });

  it("MAC takes each channel's max", () => {
    assertClose(mac(small), normalized([4, 8]));
  });

  it("GeM p=3 is the cube root of the mean cube", () => {
    const zeroCubed = 1e-18; // zeros are clamped to ε = 1e-6 first
    const expected = [Math.cbrt((1 + 8 + 27 + 64) / 4), Math.cbrt((3 * zeroCubed + 512) / 4)];
    assertClose(gem(small), normalized(expected));
    assertClose(gem(small, 3), pool("gem", small, { gemP: 3 }));
  });

  it("GeM p=1 is SPoC, and tends to MAC as p grows", () => {
    assertClose(gem(small, 1), spoc(small), 1e-6);
    const map = randomMap(32, 7, 7, 2);
    const gaps = [1, 3, 10, 100, 1000].map((p) => maxDifference(gem(map, p), mac(map)));
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! < gaps[i - 1]!, `gaps ${gaps.join(", ")}`);
    assert.ok(gaps.at(-1)! < 1e-3, `p=1000 gap ${gaps.at(-1)}`); // and no overflow at p = 1000
  });

  it("GeM rejects a non-positive exponent", () => {
    assert.throws(
      () => gem(small, 0),
      (e: unknown) => isLookalikeError(e),
    );
    assert.throws(
      () => gem(small, Number.NaN),
      (e: unknown) => isLookalikeError(e),
    );
  });
});

describe("CroW by hand (Kalantidis et al. 2016)", () => {
  // Channel 0 fires at one position out of 4, channel 1 at three.
  const map = mapOf(
    [
      [3, 0, 0, 0],
      [0, 1, 1, 3],
    ],
    2,
    2,
  );

  it("spatial weights: total activation, L2-normalised (a=2), square-rooted (b=2)", () => {
    // S' = [3, 1, 1, 3], ‖S'‖₂ = √20
    const root20 = Math.sqrt(20);
    assertClose(
      crowSpatialWeights(map),
      [3, 1, 1, 3].map((s) => Math.sqrt(s / root20)),
      1e-12,
    );
  });

  it("channel weights: log of total sparsity over the channel's own (IDF-like)", () => {
    // Q = [1/4, 3/4], ΣQ = 1 → Ω = [log 4, log 4/3]; the ε terms move this by ~1e-6.
    assertClose(crowChannelWeights(map), [Math.log(4), Math.log(4 / 3)], 1e-5);
  });

  it("descriptor: Ω_k · Σ_ij S_ij X_kij, L2-normalised", () => {
    const s = [3, 1, 1, 3].map((v) => Math.sqrt(v / Math.sqrt(20)));
    const expected = [Math.log(4) * (3 * s[0]!), Math.log(4 / 3) * (s[1]! + s[2]! + 3 * s[3]!)];
    assertClose(crow(map), normalized(expected), 1e-5);
  });

  it("a rarely firing channel outweighs a bursty one of equal sum", () => {
    const v = crow(
      mapOf(
        [
          [4, 0, 0, 0],
          [1, 1, 1, 1],
        ],
        2,
        2,
      ),
    );
    assert.ok(v[0]! > v[1]!);
  });
});

describe("R-MAC regions (Tolias et al. 2016)", () => {
  const key = (r: Region) => `${r.x},${r.y} ${r.width}x${r.height}`;

  function coverage(regions: Region[], height: number, width: number): number[] {
    const counts = new Array(height * width).fill(0);
    for (const r of regions) {
      assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.width <= width && r.y + r.height <= height, `out of bounds: ${key(r)}`);
      for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) counts[y * width + x]++;
    }
    return counts;
  }

  it("lays out 14 regions on a 7×7 map at L=3: 7×7, 2×2 of 4×4, 3×3 of 3×3", () => {
    const regions = rmacRegions(7, 7, 3);
    assert.equal(regions.length, 14);
    const expected = [
      "0,0 7x7",
      ...[0, 3].flatMap((y) => [0, 3].map((x) => `${x},${y} 4x4`)),
      ...[0, 2, 4].flatMap((y) => [0, 2, 4].map((x) => `${x},${y} 3x3`)),
    ];
    assert.deepEqual(regions.map(key).sort(), expected.sort());
  });

  it("covers the whole map at every scale", () => {
    const regions = rmacRegions(7, 7, 3);
    for (const side of [7, 4, 3]) {
      const scale = regions.filter((r) => r.width === side);
      assert.ok(
        coverage(scale, 7, 7).every((n) => n > 0),
        `scale ${side}`,
      );
    }
  });

  it("adds regions along the long side of a non-square map, plus the full map once", () => {
    // 7×10: l=1 squares of 7 at x∈{0,3} (overlap 4/7, the candidate nearest 40%), then 2×3 of 4, 3×4 of 3.
    const regions = rmacRegions(7, 10, 3);
    assert.equal(regions.length, 1 + 2 + 6 + 12);
    assert.equal(key(regions[0]!), "0,0 10x7");
    assert.deepEqual(regions.filter((r) => r.width === 7).map(key), ["0,0 7x7", "3,0 7x7"]);
    assert.deepEqual([...new Set(regions.filter((r) => r.width === 3).map((r) => r.x))], [0, 2, 4, 7]);
    assert.ok(coverage(regions, 7, 10).every((n) => n > 0));
    // Portrait is the same layout transposed.
    assert.deepEqual(
      rmacRegions(10, 7, 3)
        .map((r) => `${r.y},${r.x} ${r.height}x${r.width}`)
        .sort(),
      regions.map(key).sort(),
    );
  });

  it("handles tiny maps without empty or duplicate regions", () => {
    assert.deepEqual(rmacRegions(1, 1, 3).map(key), ["0,0 1x1"]);
    const regions = rmacRegions(2, 2, 3);
    assert.equal(new Set(regions.map(key)).size, regions.length);
    assert.ok(regions.every((r) => r.width > 0 && r.height > 0));
  });

  it("R-MAC with one scale on a square map is MAC", () => {
    const map = randomMap(16, 7, 7, 3);
    assertClose(rmac(map, 1), mac(map));
    assertClose(pool("rmac", map, { rmacLevels: 1 }), mac(map));
  });

  it("R-MAC sums L2-normalised region MACs", () => {
    // 2×2 map, L=2: the regions are the whole map and its 4 cells (l=1 is the whole map again).
    const map = mapOf(
      [
        [1, 0, 0, 0],
        [0, 0, 0, 2],
      ],
      2,
      2,
    );
    // Whole map: (1,2)/√5. Cells: top-left (1,0)→(1,0); two empty cells add nothing; bottom-right (0,2)→(0,1).
    const expected = normalized([1 / Math.sqrt(5) + 1, 2 / Math.sqrt(5) + 1]);
    assert.equal(rmacRegions(2, 2, 2).length, 5);
    assertClose(rmac(map, 2), expected);
  });
});

describe("batches and vector helpers", () => {
  it("poolBatch pools each [C,H,W] slice of an [N,C,H,W] tensor", () => {
    const [n, c, h, w] = [3, 8, 3, 3];
    const batch = randomMap(n * c, h, w, 4).data;
    for (const name of POOLING_NAMES) {
      const out = poolBatch(name, batch, n, c, h, w, { gemP: 2, rmacLevels: 2 });
      assert.equal(out.length, n);
      out.forEach((v, i) => {
        const single = { data: batch.slice(i * c * h * w, (i + 1) * c * h * w), channels: c, height: h, width: w };
        assert.deepEqual(v, pool(name, single, { gemP: 2, rmacLevels: 2 }), `${name} #${i}`);
      });
    }
    assert.throws(
      () => poolBatch("mac", batch, 2, c, h, w),
      (e: unknown) => isLookalikeError(e),
    );
  });

  it("accepts a map that is a view at an offset into a larger buffer", () => {
    const whole = randomMap(8, 3, 3, 5);
    const padded = new Float32Array(whole.data.length + 10);
    padded.set(whole.data, 5);
    const view = { ...whole, data: padded.subarray(5, 5 + whole.data.length) };
    for (const name of POOLING_NAMES) assert.deepEqual(pool(name, view), pool(name, whole));
  });

  it("l2normalize works in place and leaves a zero vector at zero", () => {
    const v = Float32Array.from([3, 4]);
    assert.equal(l2normalize(v), v);
    assertClose(v, [0.6, 0.8]);
    assert.deepEqual(l2normalize(new Float32Array(3)), new Float32Array(3));
  });

  it("dot multiplies and sums, and refuses mismatched lengths", () => {
    assert.equal(dot(Float32Array.from([1, 2, 3]), Float32Array.from([4, 5, 6])), 32);
    assert.throws(
      () => dot(new Float32Array(2), new Float32Array(3)),
      (e: unknown) => isLookalikeError(e),
    );
  });

  it("dotsWith gives exactly dot's value for each row, whatever the number of rows", () => {
    const random = seededRandom(7);
    const vector = () => Float32Array.from({ length: 1283 }, () => random() - 0.5);
    const other = vector();
    for (const count of [0, 1, 3, 4, 5, 8, 11]) {
      const rows = Array.from({ length: count }, vector);
      assert.deepEqual(
        [...dotsWith(rows, other)],
        rows.map((row) => dot(row, other)),
        `${count} rows`,
      );
    }
    assert.throws(
      () => dotsWith([new Float32Array(3), new Float32Array(2)], new Float32Array(3)),
      (e: unknown) => isLookalikeError(e),
    );
  });
});
