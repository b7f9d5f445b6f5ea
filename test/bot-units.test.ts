/** Unit tests for the bot's small parts that need no Discord: queue, server state, config, fetcher, sheet. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, it } from "node:test";
import sharp from "sharp";
import { AttachmentFetcher } from "../src/bot/attachment-fetcher.ts";
import { ConfigError, loadConfig } from "../src/bot/config.ts";
import { contactSheet } from "../src/bot/contact-sheet.ts";
import { GuildStateStore } from "../src/bot/guild-state.ts";
import { QueueFullError, WorkQueue } from "../src/bot/work-queue.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { samplePhotos } from "./support/bot-fixtures.ts";
import { readGuildStateFile } from "./support/polling.ts";
import { tempDir } from "./support/temp.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("WorkQueue", () => {
  it("runs at most `concurrency` tasks, refuses live work when full, and makes backfill wait", async () => {
    const queue = new WorkQueue(2, 4);
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const task = () =>
      new Promise<void>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        release.push(() => {
          running--;
          resolve();
        });
      });
    const live = [queue.offer(task), queue.offer(task), queue.offer(task), queue.offer(task)];
    await tick();
    assert.equal(queue.depth, 4);
    await assert.rejects(queue.offer(task), QueueFullError);
    let backfillStarted = false;
    const backfill = queue.submit(async () => {
      backfillStarted = true;
    });
    await tick();
    assert.equal(backfillStarted, false, "backfill waits while the queue is past three quarters");
    while (release.length > 0 || running > 0) {
      release.shift()?.();
      await tick();
    }
    await Promise.all([...live, backfill]);
    assert.equal(backfillStarted, true);
    assert.equal(peak, 2);
    assert.equal(queue.depth, 0);
  });
});

describe("GuildStateStore", () => {
  it("keeps each server's state in the database, applies defaults, and forgets a server", async () => {
    const dir = await tempDir();
    const store = new GuildStateStore(dir);
    assert.equal((await store.get("123")).settings.enabled, true);
    await store.update("123", (s) => {
      s.settings.action = "react";
      s.optedOutUserIds.push("42");
    });
    await store.update("456", (s) => void (s.settings.sensitivity = "strict"));
    // Another store on the same database (another process taking the server over) reads it.
    const reopened = new GuildStateStore(dir);
    const state = await reopened.get("123");
    assert.equal(state.settings.action, "react");
    assert.deepEqual(state.optedOutUserIds, ["42"]);
    assert.equal(state.settings.sensitivity, "balanced", "defaults filled in");
    assert.equal((await readGuildStateFile("", "123", dir))?.settings.action, "react");
    await reopened.remove("123");
    assert.equal((await reopened.get("123")).settings.action, "reply");
    assert.equal(await readGuildStateFile("", "123", dir), undefined, "the row is gone");
    assert.equal((await readGuildStateFile("", "456", dir))?.settings.sensitivity, "strict", "other servers stay");
    await assert.rejects(reopened.get("../etc"), (error) => isLookalikeError(error, "invalid_filter"));
    await assert.rejects(
      reopened.update("1' OR '1'='1", () => {}),
      (error) => isLookalikeError(error, "invalid_filter"),
    );
    await Promise.all([store.close(), reopened.close()]);
  });

  it("serialises a server's updates: none is lost when they overlap", async () => {
    const store = new GuildStateStore(await tempDir());
    await Promise.all(Array.from({ length: 25 }, (_, n) => store.update("789", (s) => void s.optedOutUserIds.push(String(n)))));
    assert.deepEqual(
      (await store.get("789")).optedOutUserIds,
      Array.from({ length: 25 }, (_, n) => String(n)),
    );
    // A change that throws leaves the state as it was, and later updates still run.
    await assert.rejects(
      store.update("789", () => {
        throw new Error("no");
      }),
      /no/,
    );
    assert.equal((await store.update("789", (s) => void s.optedOutUserIds.splice(0))).optedOutUserIds.length, 0);
    await store.close();
  });
});

describe("config", () => {
  it("reports every invalid setting at once", () => {
    assert.throws(
      () => loadConfig({ DISCORD_API_URL: "ftp://example", LOG_LEVEL: "loud", LOOKALIKE_MAX_IMAGE_MB: "0" }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /DISCORD_API_URL/);
        assert.match(error.message, /LOG_LEVEL/);
        assert.match(error.message, /LOOKALIKE_MAX_IMAGE_MB/);
        return true;
      },
    );
    const config = loadConfig({ DISCORD_TOKEN: " t ", LOOKALIKE_DATA_DIR: "/tmp/x" });
    assert.equal(config.token, "t");
    assert.equal(config.db, "/tmp/x/lancedb");
    assert.equal(config.maxImageBytes, 25 * 1024 * 1024);
  });

  it("reads DISCORD_EXTERNAL_MEDIA_HOSTS as validated host[:port] names, Discord's by default", () => {
    assert.deepEqual(loadConfig({}).externalMediaHosts, ["images-ext-1.discordapp.net", "images-ext-2.discordapp.net"]);
    assert.deepEqual(loadConfig({ DISCORD_EXTERNAL_MEDIA_HOSTS: " 127.0.0.2:9000 , Media.Example.org " }).externalMediaHosts, [
      "127.0.0.2:9000",
      "media.example.org",
    ]);
    assert.throws(
      () => loadConfig({ DISCORD_EXTERNAL_MEDIA_HOSTS: "ok.example, https://proxy.example/x, a b" }),
      /DISCORD_EXTERNAL_MEDIA_HOSTS: .*not a host: https:\/\/proxy\.example\/x, a b/,
    );
  });
});

describe("AttachmentFetcher", () => {
  it("follows redirects only to allowed hosts and caps the body while it streams", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/ok") res.end(Buffer.alloc(1000, 1));
      else if (req.url === "/hop") res.writeHead(302, { location: "/ok" }).end();
      else if (req.url === "/away") res.writeHead(302, { location: "http://203.0.113.9/x" }).end();
      else if (req.url === "/endless") {
        res.writeHead(200);
        const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 1);
        res.on("close", () => clearInterval(timer));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const fetcher = new AttachmentFetcher({ maxBytes: 100_000, extraHosts: [host], timeoutMs: 5_000 });
    try {
      assert.equal((await fetcher.fetch(`http://${host}/hop`)).length, 1000);
      await assert.rejects(fetcher.fetch(`http://${host}/away`), /not hosted on Discord/);
      await assert.rejects(fetcher.fetch(`http://${host}/endless`), (error) => isLookalikeError(error, "too_large"));
      await assert.rejects(fetcher.fetch(`http://${host}/gone`), (error) => isLookalikeError(error, "corrupt"));
      await assert.rejects(fetcher.fetch("http://example.com/a.png"), /not hosted on Discord/);
      assert.equal(fetcher.isAllowed("https://cdn.discordapp.com/attachments/1/2/a.png"), true);
      assert.equal(fetcher.isAllowed("https://cdn.discordapp.com.evil.example/a.png"), false);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("tells a host in trouble (5xx, 429, no answer, refused) from a file that is gone, which is not worth another try", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/busy") res.writeHead(503).end();
      else if (req.url === "/limited") res.writeHead(429).end();
      else if (req.url === "/slow") setTimeout(() => res.end(Buffer.alloc(10)), 2_000);
      else if (req.url === "/forbidden") res.writeHead(403).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    // A port nothing listens on: the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedHost = `127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const fetcher = new AttachmentFetcher({ maxBytes: 100_000, extraHosts: [host, closedHost], timeoutMs: 300 });
    const failsWith = (path: string, code: string, where = host) =>
      assert.rejects(fetcher.fetch(`http://${where}${path}`), (error) => isLookalikeError(error) && error.code === code, `${where}${path}`);
    try {
      await failsWith("/busy", "download_failed");
      await failsWith("/limited", "download_failed");
      await failsWith("/slow", "download_failed");
      await failsWith("/a.png", "download_failed", closedHost);
      await failsWith("/forbidden", "corrupt");
      await failsWith("/gone", "corrupt");
      const cancelled = new AbortController();
      cancelled.abort();
      await assert.rejects(fetcher.fetch(`http://${host}/slow`, cancelled.signal), (error) => isLookalikeError(error, "aborted"));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("takes linked images only from the external-media proxy, under /external/, over https", () => {
    const fetcher = new AttachmentFetcher({ maxBytes: 1000 });
    const linked = "https/example.com/a.jpg";
    for (const host of ["images-ext-1.discordapp.net", "images-ext-2.discordapp.net"]) {
      assert.equal(fetcher.isAllowed(`https://${host}/external/abc123/${linked}`), true, host);
      assert.equal(fetcher.isAllowed(`http://${host}/external/abc123/${linked}`), false, `${host} over http`);
    }
    assert.equal(fetcher.isAllowed("https://images-ext-1.discordapp.net/other"), false);
    assert.equal(fetcher.isAllowed("https://images-ext-1.discordapp.net/externals/x.jpg"), false);
    assert.equal(
      fetcher.isAllowed("https://images-ext-1.discordapp.net/external/../avatars/x.png"),
      false,
      "dot segments are resolved first",
    );
    assert.equal(fetcher.isAllowed("https://images-ext-3.discordapp.net/external/abc123/x.jpg"), false);
    assert.equal(fetcher.isAllowed("https://example.com/a.jpg"), false, "the linked site itself");
    assert.equal(fetcher.isAllowed("https://cdn.discordapp.com/attachments/1/2/a.png"), true, "attachments: any path");
    assert.equal(fetcher.isAllowed("http://cdn.discordapp.com/attachments/1/2/a.png"), false);

    const selfHosted = new AttachmentFetcher({ maxBytes: 1000, externalProxyHosts: ["127.0.0.2:8080"] });
    assert.equal(selfHosted.isAllowed(`http://127.0.0.2:8080/external/abc123/${linked}`), true, "a configured proxy may be plain http");
    assert.equal(selfHosted.isAllowed("http://127.0.0.2:8080/other"), false);
    assert.equal(selfHosted.isAllowed(`https://images-ext-1.discordapp.net/external/abc123/${linked}`), false, "replaces Discord's hosts");
  });

  it("refuses a redirect from the external-media proxy to the linked site", async () => {
    const requested: string[] = [];
    const answers: Record<string, Response> = {
      "https://images-ext-1.discordapp.net/external/abc/https/example.com/a.jpg": new Response(null, {
        status: 302,
        headers: { location: "https://example.com/a.jpg" },
      }),
      "https://images-ext-2.discordapp.net/external/def/https/example.com/b.jpg": new Response(null, {
        status: 301,
        headers: { location: "/external/ghi/https/example.com/b.jpg" },
      }),
      "https://images-ext-2.discordapp.net/external/ghi/https/example.com/b.jpg": new Response(Buffer.from("bytes")),
    };
    const fakeFetch = async (input: string | URL | Request) => {
      const url = String(input);
      requested.push(url);
      return answers[url] ?? new Response(null, { status: 404 });
    };
    const fetcher = new AttachmentFetcher({ maxBytes: 1000, fetch: fakeFetch as typeof fetch });
    await assert.rejects(
      fetcher.fetch("https://images-ext-1.discordapp.net/external/abc/https/example.com/a.jpg"),
      /not hosted on Discord/,
    );
    assert.equal((await fetcher.fetch("https://images-ext-2.discordapp.net/external/def/https/example.com/b.jpg")).toString(), "bytes");
    assert.ok(!requested.some((url) => new URL(url).hostname === "example.com"), requested.join("\n"));
  });
});

describe("contact sheet", () => {
  it("lays out tiles with badges and blurs spoilered ones", async () => {
    const [a, b] = await samplePhotos(2);
    const thumb = (bytes: Buffer) => sharp(bytes).resize(160, 160, { fit: "inside" }).webp().toBuffer();
    const sharpness = async (sheet: Buffer, left: number) => {
      const { data } = await sharp(sheet)
        .extract({ left, top: 40, width: 120, height: 120 })
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      let energy = 0;
      for (let i = 1; i < data.length; i++) energy += Math.abs(data[i]! - data[i - 1]!);
      return energy / data.length;
    };
    const clear = await contactSheet([
      { thumbnail: await thumb(a!), blur: false },
      { thumbnail: await thumb(b!), blur: false },
      { thumbnail: null, blur: false },
    ]);
    const hidden = await contactSheet([
      { thumbnail: await thumb(a!), blur: false },
      { thumbnail: await thumb(b!), blur: true },
      { thumbnail: null, blur: false },
    ]);
    const meta = await sharp(clear).metadata();
    assert.equal(meta.format, "webp");
    assert.equal(meta.width, 3 * 160 + 4 * 6);
    assert.ok((await sharpness(hidden, 172 + 20)) < (await sharpness(clear, 172 + 20)) / 3, "the spoilered tile is blurred");
  });

  it("outlines the matched part of a thumbnail in yellow, and leaves a whole match alone", async () => {
    const grey = await sharp({ create: { width: 200, height: 100, channels: 3, background: "#808080" } })
      .webp()
      .toBuffer();
    const [boxed, whole] = await Promise.all([
      contactSheet([{ thumbnail: grey, blur: false, box: [0.5, 0, 0.5, 0.5] }]),
      contactSheet([{ thumbnail: grey, blur: false, box: [0, 0, 1, 1] }]),
    ]);
    // The 200×100 thumbnail sits in the 160-px tile at 160×80 from y = 40: the box's left edge is at x = 80.
    const pixel = async (sheet: Buffer, x: number, y: number) => {
      const { data } = await sharp(sheet)
        .extract({ left: 6 + x, top: 6 + y, width: 1, height: 1 })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return [...data];
    };
    const [r, g, b] = await pixel(boxed, 81, 60);
    assert.ok(r! > 200 && g! > 200 && b! < 150, `yellow outline, got ${[r, g, b]}`);
    const [r2, , b2] = await pixel(whole, 81, 60);
    assert.ok(Math.abs(r2! - b2!) < 20, `no outline on a whole match, got ${await pixel(whole, 81, 60)}`);
  });
});
