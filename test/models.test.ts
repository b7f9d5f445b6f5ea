import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { ensureModelFile, getModel, MODELS, type ModelDescription } from "../src/retrieval/models.ts";
import { modelsDir } from "./support/paths.ts";

const real = MODELS["mobilenetv2-int8"];

describe("model cache and downloader (loopback server, never the network)", () => {
  let server: Server;
  let base: string;
  let bytes: Buffer;
  let hits: string[] = [];

  before(async () => {
    bytes = await readFile(path.join(modelsDir, real.fileName));
    server = createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === "/good") {
        res.writeHead(200, { "content-length": bytes.length }).end(bytes);
      } else if (req.url === "/tampered") {
        const copy = Buffer.from(bytes);
        copy[1000] = copy[1000]! ^ 0xff;
        res.writeHead(200, { "content-length": copy.length }).end(copy);
      } else if (req.url === "/truncated") {
        // Announce the full size, send half, then cut the connection.
        res.writeHead(200, { "content-length": bytes.length });
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
      } else if (req.url === "/redirect") {
        res.writeHead(302, { location: "/good" }).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const withUrls = (...urls: string[]): ModelDescription => ({ ...real, urls: urls.map((u) => base + u) });
  const tempDir = () => mkdtemp(path.join(tmpdir(), "lookalike-models-"));

  it("uses a cached file in place after verifying it", async () => {
    hits = [];
    const file = await ensureModelFile(withUrls("/good"), { modelsDir, download: false });
    assert.equal(file, path.join(modelsDir, real.fileName));
    assert.deepEqual(hits, []);
  });

  it("downloads a missing model with progress and verifies its sha256", async () => {
    const dir = await tempDir();
    const progress: number[] = [];
    const file = await ensureModelFile(withUrls("/redirect"), {
      modelsDir: dir,
      onProgress: (p) => progress.push(p.receivedBytes),
    });
    assert.deepEqual(await readFile(file), bytes);
    assert.equal(progress.at(-1), bytes.length);
    assert.ok(progress.length > 1, "progress is reported while the file arrives");
    await rm(dir, { recursive: true });
  });

  it("refuses a file whose sha256 does not match and leaves nothing behind", async () => {
    const dir = await tempDir();
    await assert.rejects(ensureModelFile(withUrls("/tampered"), { modelsDir: dir }), (error) => {
      assert.ok(isLookalikeError(error, "model_download_failed"));
      assert.match(error.message, /sha256/);
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
    await rm(dir, { recursive: true });
  });

  it("refuses a truncated transfer, then falls back to the next URL", async () => {
    const dir = await tempDir();
    await assert.rejects(ensureModelFile(withUrls("/truncated"), { modelsDir: dir }), /truncated|terminated|aborted|closed|socket/i);
    assert.deepEqual(await readdir(dir), []);
    const file = await ensureModelFile(withUrls("/truncated", "/missing", "/good"), { modelsDir: dir });
    assert.deepEqual(await readFile(file), bytes);
    await rm(dir, { recursive: true });
  });

  it("refuses a damaged cached file with advice, and never downloads when told not to", async () => {
    const dir = await tempDir();
    await assert.rejects(ensureModelFile(withUrls("/good"), { modelsDir: dir, download: false }), (error) =>
      isLookalikeError(error, "model_download_failed"),
    );
    await writeFile(path.join(dir, real.fileName), bytes.subarray(0, 100));
    await assert.rejects(ensureModelFile(withUrls("/good"), { modelsDir: dir }), (error) => {
      assert.ok(isLookalikeError(error, "model_checksum_mismatch"));
      assert.match(error.message, /Delete it/);
      return true;
    });
    await rm(dir, { recursive: true });
  });

  it("names the known models when asked for an unknown one", () => {
    assert.throws(() => getModel("resnet-9000"), /Known models: mobilenetv2-int8/);
  });
});
