import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { sharperDecode } from "../src/retrieval/analyzer.ts";
import { type ErrorCode, isLookalikeError } from "../src/retrieval/errors.ts";
import {
  type DecodedImage,
  decodeImage,
  flipHorizontal,
  greyscaleGrid,
  isDecodableFormat,
  type ModelInputSpec,
  makeThumbnail,
  sniffImageFormat,
  writeModelInput,
} from "../src/retrieval/image.ts";
import * as fixtures from "./support/bad-images.ts";
import { BLUE, RED, type Rgb } from "./support/bad-images.ts";
import { datasetsDir } from "./support/paths.ts";

// Any rejection that escapes decodeImage's guards would show up here.
const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => unhandled.push(reason));

const photoDir = path.join(datasetsDir, "photo-pool-cc", "images");
const photo = path.join(photoDir, "lomiri_Bridge_by_Sander_Klootwijk.jpg"); // 1024×576
const corruptJpg = path.join(datasetsDir, "peer-tests", "imagededup", "mixed_images", "ukbench09268_corrupt.jpg");
const hostile = await fixtures.hostileCases(isDecodableFormat("bmp"));

/** assert.rejects validator: a LookalikeError with this code (and optionally a message fragment). */
function refusedWith(code: ErrorCode, messageIncludes?: string) {
  return (error: unknown): true => {
    assert.ok(isLookalikeError(error), `expected LookalikeError(${code}), got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (messageIncludes) assert.ok(error.message.includes(messageIncludes), error.message);
    return true;
  };
}

function pixelAt(image: DecodedImage, x: number, y: number): number[] {
  const at = (y * image.width + x) * 3;
  return [...image.pixels.subarray(at, at + 3)];
}

function assertColour(actual: number[], expected: Rgb, tolerance = 3): void {
  const close = actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
  assert.ok(close, `colour ${actual.join(",")} is not within ${tolerance} of ${expected.join(",")}`);
}

const decodeBytes = async (bytes: Promise<Buffer> | Buffer) => decodeImage(await bytes);

describe("sniffImageFormat", () => {
  it("identifies formats by content, not name", async () => {
    assert.equal(sniffImageFormat(await fixtures.webp()), "webp");
    assert.equal(sniffImageFormat(await fixtures.avif()), "avif");
    assert.equal(sniffImageFormat(await fixtures.tiff()), "tiff");
    assert.equal(sniffImageFormat(await fixtures.animatedGif()), "gif");
    assert.equal(sniffImageFormat(fixtures.tinyBmp()), "bmp");
    assert.equal(sniffImageFormat(Buffer.from('\uFEFF<?xml version="1.0"?><svg></svg>')), "svg");
    assert.equal(sniffImageFormat(Buffer.from("<!doctype html><html><svg></svg></html>")), undefined);
    assert.equal(sniffImageFormat(new Uint8Array(0)), undefined);
  });
});

describe("decodeImage refuses hostile input with a typed error", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "lookalike-bad-images-"));
    await Promise.all(hostile.map((c) => writeFile(path.join(dir, c.fileName), c.bytes)));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const c of hostile) {
    it(`${c.name} → ${c.expected}`, async () => {
      await assert.rejects(decodeImage(c.bytes, { limits: c.limits }), refusedWith(c.expected));
      // Same refusal through the path route, naming the file in the message and the context.
      const file = path.join(dir, c.fileName);
      await assert.rejects(decodeImage(file, { limits: c.limits }), (error) => {
        refusedWith(c.expected, file)(error);
        assert.equal((error as { context: { file?: string } }).context.file, file);
        return true;
      });
    });
  }

  it("refuses the decompression bomb without decoding it", async () => {
    const bomb = fixtures.pngBomb();
    const started = performance.now();
    await assert.rejects(decodeImage(bomb), refusedWith("too_many_pixels", "20000×20000"));
    // Decoding 400 megapixels would take seconds; reading the header takes about a millisecond.
    assert.ok(performance.now() - started < 250, "the bomb must be refused from its header");
  });

  it("refuses an over-size file from its size, before reading it", async () => {
    const file = path.join(dir, "sparse-1GiB.jpg");
    await writeFile(file, "");
    await truncate(file, 2 ** 30); // sparse: reading it would take seconds
    const started = performance.now();
    await assert.rejects(decodeImage(file), refusedWith("too_large", file));
    assert.ok(performance.now() - started < 250);
  });

  it("a real corrupt dataset file is corrupt", async () => {
    await assert.rejects(decodeImage(corruptJpg), refusedWith("corrupt", "ukbench09268_corrupt.jpg"));
  });

  it("missing files and directories are refused, naming the path", async () => {
    const missing = path.join(dir, "nope.jpg");
    await assert.rejects(decodeImage(missing), refusedWith("corrupt", `${missing}" does not exist`));
    await assert.rejects(decodeImage(dir), refusedWith("corrupt", "not a regular file"));
  });

  it("enforces a caller's pixel limit on an ordinary image", async () => {
    const small = await fixtures.solid(40, 20, RED).png().toBuffer();
    await assert.rejects(decodeImage(small, { limits: { maxPixels: 100 } }), refusedWith("too_many_pixels"));
  });

  it("times out instead of waiting", async () => {
    const png = await sharp(photo).png().toBuffer(); // decoding takes several ms
    await assert.rejects(decodeImage(png, { limits: { timeoutMs: 1 } }), refusedWith("timeout"));
  });

  it("decodes a second, sharper copy only within the deadline the image's decodes share, and falls back without refusing", async () => {
    const png = await sharp(photo).resize(4096).png().toBuffer(); // decoding takes tens of ms
    const sharper = await sharperDecode(png, { workingSize: 1024 }, Date.now() + 10_000);
    assert.equal(Math.max(sharper!.width, sharper!.height), 1024);
    // The first decode used the whole budget: no second one, and no refusal (the image was decoded).
    assert.equal(await sharperDecode(png, { workingSize: 1024 }, Date.now()), undefined);
    // A few milliseconds left: it starts, runs out, and the region views are cut from the working copy.
    assert.equal(await sharperDecode(png, { workingSize: 1024 }, Date.now() + 5), undefined);
    // The caller has gone: that still ends the analysis.
    await assert.rejects(
      sharperDecode(png, { workingSize: 1024, signal: AbortSignal.abort() }, Date.now() + 10_000),
      refusedWith("aborted"),
    );
  });

  it("honours an AbortSignal before and during decoding", async () => {
    await assert.rejects(decodeImage(photo, { signal: AbortSignal.abort() }), refusedWith("aborted"));
    const controller = new AbortController();
    const pending = decodeImage(photo, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, refusedWith("aborted"));
  });

  it("stays up: after all of the above, hostile inputs in parallel, then a normal image still decodes", async () => {
    const results = await Promise.allSettled(hostile.map((c) => decodeImage(c.bytes, { limits: c.limits })));
    assert.ok(results.every((r) => r.status === "rejected" && isLookalikeError(r.reason)));
    const image = await decodeImage(photo);
    assert.equal(image.width, 512);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  });
});

describe("decodeImage normalises what it accepts", () => {
  it("decodes a photo to a 512-px working copy with its source size", async () => {
    const image = await decodeImage(photo);
    assert.deepEqual(
      [image.format, image.width, image.height, image.sourceWidth, image.sourceHeight, image.frames],
      ["jpeg", 512, 288, 1024, 576, 1],
    );
    assert.equal(image.pixels.length, 512 * 288 * 3);
    assert.equal(image.warnings, undefined);
  });

  it("respects workingSize and never enlarges", async () => {
    const small = await decodeImage(photo, { workingSize: 100 });
    assert.deepEqual([small.width, small.height], [100, 56]);
    const tiny = await decodeBytes(fixtures.solid(40, 20, RED).png().toBuffer());
    assert.deepEqual([tiny.width, tiny.height], [40, 20]);
  });

  it("accepts a JPEG missing a few trailing bytes, with a warning", async () => {
    const jpeg = await fixtures.noisyJpeg();
    const image = await decodeImage(jpeg.subarray(0, jpeg.length - 200));
    assert.deepEqual([image.width, image.height], [256, 256]);
    assert.match(image.warnings?.[0] ?? "", /truncated/);
  });

  it("decodes only the first frame of an animated GIF, and the frame seam", async () => {
    const gif = await fixtures.animatedGif([RED, BLUE]);
    const first = await decodeImage(gif);
    assert.deepEqual([first.format, first.frames, first.width, first.height], ["gif", 2, 20, 10]);
    assertColour(pixelAt(first, 10, 5), RED, 0);
    assertColour(pixelAt(await decodeImage(gif, { frame: 1 }), 10, 5), BLUE, 0);
    await assert.rejects(decodeImage(gif, { frame: 2 }), refusedWith("internal"));
  });

  it("applies EXIF orientation 6: dimensions swap, left half ends up on top", async () => {
    const image = await decodeBytes(fixtures.exifRotatedJpeg());
    assert.deepEqual([image.width, image.height, image.sourceWidth, image.sourceHeight], [20, 40, 20, 40]);
    assertColour(pixelAt(image, 10, 5), RED, 6);
    assertColour(pixelAt(image, 10, 34), BLUE, 6);
  });

  it("flattens alpha onto white", async () => {
    const image = await decodeBytes(fixtures.alphaPng());
    assertColour(pixelAt(image, 5, 10), [255, 255, 255], 0);
    assertColour(pixelAt(image, 35, 10), BLUE, 0);
  });

  it("converts CMYK, 16-bit and greyscale inputs to 8-bit sRGB RGB", async () => {
    const cmyk = await decodeBytes(fixtures.cmykJpeg());
    const [r, g, b] = pixelAt(cmyk, 5, 10) as [number, number, number];
    assert.ok(r > 200 && g < 40 && b < 40, `CMYK red came out ${[r, g, b]}`);
    const [r2, , b2] = pixelAt(cmyk, 35, 10) as [number, number, number];
    assert.ok(b2 > r2 + 60, "CMYK blue stays blue");

    const deep = await decodeBytes(fixtures.png16());
    assert.equal(deep.pixels.length, 40 * 20 * 3);
    assertColour(pixelAt(deep, 5, 10), RED, 0);
    assertColour(pixelAt(deep, 35, 10), BLUE, 0);

    const grey = await decodeBytes(fixtures.greyJpeg());
    assert.equal(grey.pixels.length, 40 * 20 * 3);
    assertColour(pixelAt(grey, 20, 10), [128, 128, 128], 2);
  });

  for (const [format, make, tolerance] of [
    ["webp", fixtures.webp, 0],
    ["avif", fixtures.avif, 12],
    ["tiff", fixtures.tiff, 3], // sharp writes JPEG-compressed TIFF by default
  ] as const) {
    it(`decodes ${format}`, async () => {
      const image = await decodeBytes(make());
      assert.deepEqual([image.format, image.width, image.height], [format, 40, 20]);
      assertColour(pixelAt(image, 5, 10), RED, tolerance);
      assertColour(pixelAt(image, 35, 10), BLUE, tolerance);
    });
  }

  it("decodes every photo of the pool within its limits", async () => {
    const files = (await readdir(photoDir)).filter((f) => f.endsWith(".jpg"));
    const images = await Promise.all(files.map((f) => decodeImage(path.join(photoDir, f))));
    for (const image of images) {
      assert.equal(Math.max(image.width, image.height), Math.min(512, Math.max(image.sourceWidth, image.sourceHeight)));
      assert.equal(image.pixels.length, image.width * image.height * 3);
    }
  });
});

describe("operations on the working copy", () => {
  const imagenet: Omit<ModelInputSpec, "size" | "resize"> = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const normalised = (value: number, c: number) => Math.fround((value / 255 - imagenet.mean[c]!) / imagenet.std[c]!);
  const decodedPng = async (pipeline: ReturnType<typeof fixtures.solid>) => decodeImage(await pipeline.png().toBuffer());

  it("writeModelInput: exact normalised floats for a solid colour, at an offset, nothing else touched", async () => {
    const image = await decodedPng(fixtures.solid(10, 6, [255, 0, 128]));
    const size = 4;
    const out = new Float32Array(5 + 3 * size * size + 5).fill(Number.NaN);
    await writeModelInput(image, { ...imagenet, size, resize: "cover" }, out, 5);
    [255, 0, 128].forEach((value, c) => {
      const plane = out.subarray(5 + c * size * size, 5 + (c + 1) * size * size);
      assert.ok(
        plane.every((x) => x === normalised(value, c)),
        `channel ${c}: ${plane.join(",")}`,
      );
    });
    assert.ok([...out.subarray(0, 5), ...out.subarray(5 + 3 * size * size)].every(Number.isNaN));
  });

  it("writeModelInput: CHW layout (rows of a plane, then planes) and contain padding ≈ 0", async () => {
    const topRedBottomBlue = await decodedPng(
      fixtures
        .solid(8, 8, RED)
        .composite([{ input: { create: { width: 8, height: 4, channels: 3, background: "#0000ff" } }, top: 4, left: 0 }]),
    );
    const out = await writeModelInput(topRedBottomBlue, { ...imagenet, size: 8, resize: "fill" }, new Float32Array(192));
    assert.equal(out[0], normalised(255, 0)); // R plane, top row
    assert.equal(out[63], normalised(0, 0)); // R plane, bottom row
    assert.equal(out[128], normalised(0, 2)); // B plane, top row
    assert.equal(out[191], normalised(255, 2)); // B plane, bottom row

    const wide = await decodedPng(fixtures.solid(8, 4, RED));
    const padded = await writeModelInput(wide, { ...imagenet, size: 8, resize: "contain" }, new Float32Array(192));
    assert.ok(Math.abs(padded[0]!) < 0.02 && Math.abs(padded[64 + 7]!) < 0.02, "bars are the mean colour");
    assert.equal(padded[4 * 8], normalised(255, 0)); // middle rows hold the image

    await assert.rejects(writeModelInput(wide, { ...imagenet, size: 8, resize: "fill" }, new Float32Array(10)), refusedWith("internal"));
  });

  it("greyscaleGrid: exactly w×h grey values", async () => {
    const topWhite = await decodedPng(
      fixtures
        .solid(32, 32, [255, 255, 255])
        .composite([{ input: { create: { width: 32, height: 16, channels: 3, background: "#000000" } }, top: 16, left: 0 }]),
    );
    const grid = greyscaleGrid(topWhite, 9, 8);
    assert.ok(grid instanceof Uint8Array);
    assert.equal(grid.length, 72);
    assert.ok(grid.subarray(0, 9).every((v) => v > 240) && grid.subarray(63).every((v) => v < 15));
  });

  it("greyscaleGrid: each cell is the mean luma of its pixels; a copy smaller than the grid repeats pixels", () => {
    // 4×2 RGB: a white and a black column pair on the top row, mid-grey below.
    const row0 = [255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0];
    const row1 = Array(12).fill(100);
    const image = {
      pixels: Buffer.from([...row0, ...row1]),
      width: 4,
      height: 2,
      sourceWidth: 4,
      sourceHeight: 2,
      format: "png",
      frames: 1,
    } as const;
    assert.deepEqual([...greyscaleGrid(image, 2, 1)], [178, 50], "2×2 boxes: (255+255+100+100)/4 and (0+0+100+100)/4");
    const enlarged = greyscaleGrid(image, 9, 8);
    assert.equal(enlarged.length, 72);
    assert.deepEqual([enlarged[0], enlarged[8], enlarged[71]], [255, 0, 100], "every cell holds a real pixel, none is empty");
    assert.throws(() => greyscaleGrid({ ...image, pixels: Buffer.alloc(5) }, 9, 8), refusedWith("internal"));
  });

  it("makeThumbnail: a WebP whose long side is at most 160 px", async () => {
    const thumb = await sharp(await makeThumbnail(await decodeImage(photo))).metadata();
    assert.deepEqual([thumb.format, thumb.width, thumb.height], ["webp", 160, 90]);
    const small = await sharp(await makeThumbnail(await decodedPng(fixtures.solid(40, 20, RED)))).metadata();
    assert.deepEqual([small.width, small.height], [40, 20]);
  });

  it("flipHorizontal mirrors pixels and leaves the original alone", async () => {
    const image = await decodedPng(fixtures.halves(40, 20, RED, BLUE));
    const flipped = await flipHorizontal(image);
    assert.deepEqual([flipped.width, flipped.height, flipped.format], [40, 20, "png"]);
    assertColour(pixelAt(flipped, 5, 10), BLUE, 0);
    assertColour(pixelAt(flipped, 35, 10), RED, 0);
    assertColour(pixelAt(image, 5, 10), RED, 0);
  });
});
