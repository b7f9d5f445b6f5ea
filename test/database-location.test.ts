import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../src/bot/config.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import {
  connectDatabase,
  type DatabaseLocation,
  DEFAULT_INDEX_CACHE_MB,
  databaseUri,
  indexCacheSetting,
  objectStoreProblems,
  parseDatabaseLocation,
} from "../src/retrieval/store/database.ts";
import { type FakeS3, useFakeS3 } from "./support/object-store.ts";
import { tempDir } from "./support/temp.ts";

const CWD = "/srv/lookalike";

describe("parseDatabaseLocation: the one place that tells an object-store URI from a folder", () => {
  const cases: [input: string, expected: DatabaseLocation | RegExp][] = [
    ["data/lancedb", { kind: "folder", path: "/srv/lookalike/data/lancedb" }],
    ["./db", { kind: "folder", path: "/srv/lookalike/db" }],
    ["/var/lib/lookalike/db", { kind: "folder", path: "/var/lib/lookalike/db" }],
    ["../shared/db", { kind: "folder", path: "/srv/shared/db" }],
    ["./s3:bucket", { kind: "folder", path: "/srv/lookalike/s3:bucket" }],
    ["s3://lookalike/prod/db", { kind: "object-store", scheme: "s3", bucket: "lookalike", uri: "s3://lookalike/prod/db" }],
    ["s3://lookalike", { kind: "object-store", scheme: "s3", bucket: "lookalike", uri: "s3://lookalike" }],
    // Passed through untouched: no normalising of the prefix.
    ["s3://my.bucket-1/a//b/", { kind: "object-store", scheme: "s3", bucket: "my.bucket-1", uri: "s3://my.bucket-1/a//b/" }],
    ["S3://lookalike/db", { kind: "object-store", scheme: "s3", bucket: "lookalike", uri: "S3://lookalike/db" }],
    ["gs://lookalike_images/db", { kind: "object-store", scheme: "gs", bucket: "lookalike_images", uri: "gs://lookalike_images/db" }],
    ["az://images/db", { kind: "object-store", scheme: "az", bucket: "images", uri: "az://images/db" }],
    ["", /empty/],
    ["   ", /empty/],
    ["s3://", /"s3:\/\/" names no bucket/],
    ["s3:///prefix", /names no bucket/],
    ["az:///prefix", /names no container/],
    ["s3:bucket/prefix", /starts like a URI but is not one.*\.\/s3:bucket\/prefix for a folder/],
    ["s3:/bucket", /starts like a URI but is not one/],
    ["ftp://host/db", /"ftp:\/\/" is not a supported database location: use s3:\/\/bucket\/prefix, gs:\/\/bucket\/prefix/],
    ["db://my-project", /"db:\/\/" is not a supported/],
    ["file:///srv/db", /"file:\/\/" is not a supported/],
    ["s3://Upper/db", /"Upper" .* S3 bucket names are 3–63 lower-case/],
    ["s3://ab/db", /not a valid name/],
    ["s3://bucket:9000/db", /"bucket:9000" .* not a valid name/],
    ["s3://a b/db", /not a valid URI/],
    ["s3://bucket/db?region=eu", /\?query or #fragment/],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected instanceof RegExp ? `refused: ${expected.source}` : expected.kind}`, () => {
      if (expected instanceof RegExp) {
        assert.throws(
          () => parseDatabaseLocation(input, CWD),
          (error) => isLookalikeError(error, "db_location_invalid") && expected.test(error.message),
        );
      } else {
        assert.deepEqual(parseDatabaseLocation(input, CWD), expected);
      }
    });
  }

  it("never repeats credentials written into a URI", () => {
    for (const uri of ["s3://AKIAEXAMPLE:hunter2@bucket/db", "s3://AKIAEXAMPLE:hunter2@not a host/db"]) {
      assert.throws(
        () => parseDatabaseLocation(uri, CWD),
        (error) =>
          isLookalikeError(error, "db_location_invalid") &&
          /Credentials do not belong/.test(error.message) &&
          !/hunter2|AKIAEXAMPLE/.test(JSON.stringify(error.context) + error.message),
      );
    }
  });

  it("gives LanceDB the absolute folder or the URI as given", () => {
    assert.equal(databaseUri(parseDatabaseLocation("db", CWD)), "/srv/lookalike/db");
    assert.equal(databaseUri(parseDatabaseLocation("s3://bucket/db/", CWD)), "s3://bucket/db/");
  });
});

describe("objectStoreProblems: the object store's variables, checked before LanceDB sees them", () => {
  const s3 = parseDatabaseLocation("s3://bucket/db");
  const cases: [env: Record<string, string>, expected: string[]][] = [
    [{}, []],
    [{ AWS_ENDPOINT: "https://s3.example.org" }, []],
    [{ AWS_ENDPOINT: "http://127.0.0.1:9000", AWS_ALLOW_HTTP: "true" }, []],
    [{ AWS_ENDPOINT: "http://127.0.0.1:9000", AWS_ALLOW_HTTP: "1" }, []],
    [{ AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" }, []],
    [{ AWS_ENDPOINT: "http://127.0.0.1:9000" }, ["AWS_ENDPOINT: http://127.0.0.1:9000 is plain http: set AWS_ALLOW_HTTP=true"]],
    [{ AWS_ENDPOINT: "http://127.0.0.1:9000", AWS_ALLOW_HTTP: "false" }, ["AWS_ENDPOINT: http://127.0.0.1:9000 is plain http"]],
    [{ AWS_ENDPOINT_URL: "http://minio:9000" }, ["AWS_ENDPOINT_URL: http://minio:9000 is plain http"]],
    [{ AWS_ENDPOINT: "127.0.0.1:9000" }, ['AWS_ENDPOINT: the object store\'s http(s):// URL, got "127.0.0.1:9000"']],
    [{ AWS_ENDPOINT: "" }, ["AWS_ENDPOINT: the object store's http(s):// URL"]],
    [{ AWS_ALLOW_HTTP: "sure" }, ['AWS_ALLOW_HTTP: true or false, got "sure"']],
    [{ AWS_ACCESS_KEY_ID: "id" }, ["AWS_SECRET_ACCESS_KEY: not set, but AWS_ACCESS_KEY_ID is"]],
    [{ AWS_SECRET_ACCESS_KEY: "secret" }, ["AWS_ACCESS_KEY_ID: not set, but AWS_SECRET_ACCESS_KEY is"]],
  ];
  for (const [env, expected] of cases) {
    it(`${JSON.stringify(env)} → ${expected.length === 0 ? "fine" : expected.join("; ")}`, () => {
      const lines = objectStoreProblems(s3, env).map(({ variable, message }) => `${variable}: ${message}`);
      assert.equal(lines.length, expected.length, lines.join("\n"));
      for (const [i, line] of lines.entries())
        assert.ok(line.startsWith(expected[i]!), `${line}\n  expected to start with\n${expected[i]}`);
    });
  }

  it("looks at nothing for a folder, nor at AWS_* for another store", () => {
    const env = { AWS_ENDPOINT: "http://127.0.0.1:9000" };
    assert.deepEqual(objectStoreProblems(parseDatabaseLocation("db"), env), []);
    assert.deepEqual(objectStoreProblems(parseDatabaseLocation("gs://bucket/db"), env), []);
  });
});

describe("LOOKALIKE_DB_URI in the bot's settings", () => {
  it("defaults to lancedb/ in the data folder, and resolves a folder to an absolute path", () => {
    assert.equal(loadConfig({ LOOKALIKE_DATA_DIR: "/tmp/x" }).db, "/tmp/x/lancedb");
    assert.equal(loadConfig({ LOOKALIKE_DATA_DIR: "/tmp/x", LOOKALIKE_DB_URI: " " }).db, "/tmp/x/lancedb");
    assert.equal(loadConfig({ LOOKALIKE_DB_URI: "store/db" }).db, path.resolve("store/db"));
  });

  it("keeps an object-store URI exactly as given", () => {
    const env = { LOOKALIKE_DB_URI: "s3://lookalike/prod/db", AWS_ENDPOINT: "https://s3.example.org" };
    assert.equal(loadConfig(env).db, "s3://lookalike/prod/db");
  });

  it("reports a bad location or object-store variable with every other problem, one line each", () => {
    const expectLines = (env: Record<string, string>, expected: RegExp[]) =>
      assert.throws(
        () => loadConfig(env),
        (error) => {
          assert.ok(error instanceof ConfigError);
          const lines = error.message.split("\n").filter((line) => line.startsWith("  "));
          assert.equal(lines.length, expected.length, error.message);
          for (const [i, pattern] of expected.entries()) assert.match(lines[i]!, pattern);
          return true;
        },
      );
    expectLines({ LOOKALIKE_DB_URI: "s3:///db", LOG_LEVEL: "loud" }, [
      /^ {2}LOG_LEVEL: /,
      /^ {2}LOOKALIKE_DB_URI: "s3:\/\/\/db" names no bucket/,
    ]);
    expectLines({ LOOKALIKE_DB_URI: "ftp://host/db" }, [/^ {2}LOOKALIKE_DB_URI: "ftp:\/\/" is not a supported database location/]);
    expectLines({ LOOKALIKE_DB_URI: "s3://bucket/db", AWS_ENDPOINT: "http://127.0.0.1:9000", AWS_ACCESS_KEY_ID: "id" }, [
      /^ {2}AWS_ENDPOINT: http:\/\/127\.0\.0\.1:9000 is plain http: set AWS_ALLOW_HTTP=true/,
      /^ {2}AWS_SECRET_ACCESS_KEY: not set, but AWS_ACCESS_KEY_ID is/,
    ]);
  });

  it("leaves the AWS_* variables alone while the database is a folder", () => {
    assert.equal(loadConfig({ LOOKALIKE_DATA_DIR: "/tmp/x", AWS_ENDPOINT: "http://127.0.0.1:9000" }).db, "/tmp/x/lancedb");
  });
});

describe("LOOKALIKE_INDEX_CACHE_MB: LanceDB's index cache for the process", () => {
  const cases: [string | undefined, number | RegExp][] = [
    [undefined, DEFAULT_INDEX_CACHE_MB],
    [" ", DEFAULT_INDEX_CACHE_MB],
    ["512", 512],
    [" 16 ", 16],
    ["15", /a whole number of MiB from 16/],
    ["0", /from 16/],
    ["1.5", /got "1.5"/],
    ["-3", /got "-3"/],
    ["lots", /got "lots"/],
    ["2000000", /to 1048576/],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected}`, () => {
      const { mb, problems } = indexCacheSetting(value === undefined ? {} : { LOOKALIKE_INDEX_CACHE_MB: value });
      if (typeof expected === "number") {
        assert.deepEqual(problems, []);
        assert.equal(mb, expected);
      } else {
        assert.equal(problems.length, 1);
        assert.equal(problems[0]!.variable, "LOOKALIKE_INDEX_CACHE_MB");
        assert.match(problems[0]!.message, expected);
      }
    });
  }

  it("is reported with the bot's other settings, and refused by connectDatabase before LanceDB is opened", async () => {
    assert.throws(
      () => loadConfig({ LOOKALIKE_INDEX_CACHE_MB: "tiny", LOG_LEVEL: "loud" }),
      (error) => error instanceof ConfigError && /LOG_LEVEL: [^\n]*\n {2}LOOKALIKE_INDEX_CACHE_MB: a whole number/.test(error.message),
    );
    const dir = await tempDir();
    const saved = process.env.LOOKALIKE_INDEX_CACHE_MB;
    process.env.LOOKALIKE_INDEX_CACHE_MB = "tiny";
    try {
      await assert.rejects(connectDatabase(path.join(dir, "db")), (error) => isLookalikeError(error, "db_config_invalid"));
    } finally {
      if (saved === undefined) delete process.env.LOOKALIKE_INDEX_CACHE_MB;
      else process.env.LOOKALIKE_INDEX_CACHE_MB = saved;
    }
    assert.equal(existsSync(path.join(dir, "db")), false, "nothing was created");
  });
});

describe("connectDatabase", () => {
  let s3: FakeS3;
  let s3Files: string;
  before(async () => {
    s3 = await useFakeS3();
    s3Files = s3.directory;
  });
  after(() => s3.stop());

  it("stores an s3:// database in the bucket, never in a local folder named after the URI", async () => {
    const cwd = process.cwd();
    const uri = s3.freshUri("connect");
    const db = await connectDatabase(uri);
    try {
      await db.createTable("things", [{ id: "a", n: 1 }]);
      assert.deepEqual(await db.tableNames(), ["things"], "tables are listed (s3rver's listing patched)");
    } finally {
      db.close();
    }
    const prefix = uri.slice(`s3://${s3.bucket}/`.length);
    assert.ok((await readdir(path.join(s3Files, s3.bucket, prefix))).includes("things.lance"));
    assert.equal(existsSync(path.join(cwd, "s3:")), false);
  });

  it("passes readConsistencyInterval on: a reader with 0 sees a later commit without reopening", async () => {
    const uri = s3.freshUri("consistency");
    const writer = await connectDatabase(uri);
    const reader = await connectDatabase(uri, { readConsistencyInterval: 0 });
    try {
      const written = await writer.createTable("rows", [{ id: "a" }]);
      const read = await reader.openTable("rows");
      assert.equal(await read.countRows(), 1);
      await written.add([{ id: "b" }]);
      assert.equal(await read.countRows(), 2);
    } finally {
      writer.close();
      reader.close();
    }
  });

  it("connects to a folder given relative to the working directory", async () => {
    const dir = await tempDir();
    const db = await connectDatabase(path.relative(process.cwd(), path.join(dir, "db")));
    try {
      await db.createTable("things", [{ id: "a" }]);
    } finally {
      db.close();
    }
    assert.ok(existsSync(path.join(dir, "db", "things.lance")));
  });

  it("refuses object-store variables LanceDB could not use before connecting", async () => {
    const saved = process.env.AWS_ALLOW_HTTP;
    delete process.env.AWS_ALLOW_HTTP;
    try {
      await assert.rejects(connectDatabase(s3.freshUri()), (error) => {
        assert.ok(isLookalikeError(error, "object_store_config_invalid"));
        assert.match(error.message, /^AWS_ENDPOINT: http:\/\/127\.0\.0\.1:\d+ is plain http: set AWS_ALLOW_HTTP=true/);
        return true;
      });
    } finally {
      process.env.AWS_ALLOW_HTTP = saved;
    }
    await assert.rejects(connectDatabase("s3:bucket"), (error) => isLookalikeError(error, "db_location_invalid"));
  });
});
