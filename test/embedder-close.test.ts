/**
 * Closing the embedder while the model runs (the bot shutting down mid-flood) ends the process
 * cleanly: the inference worker finishes its batch, releases the session and exits. Terminated
 * mid-run instead, onnxruntime-node aborted the whole process with an uncaught Napi::Error in about
 * half of such closes (tmp probe, 3 of 6; 0 of 16 after the fix). Run in a child process, since an
 * abort would take the test runner with it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const script = fileURLToPath(new URL("./support/close-mid-run.ts", import.meta.url));

describe("closing the inference worker mid-run", () => {
  it("lets the batch in flight finish and exits cleanly, every time", async () => {
    for (const delayMs of [50, 150, 300]) {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, String(delayMs)], {
        timeout: 60_000,
      });
      assert.doesNotMatch(stderr, /terminate called|Napi::Error/, `closed ${delayMs} ms into the batch`);
      assert.match(stdout, /closed; batch finished \(\d+ values\)/, `closed ${delayMs} ms into the batch`);
    }
  });
});
