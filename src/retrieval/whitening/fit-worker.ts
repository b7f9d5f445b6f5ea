/**
 * Fits a collection's whitening off the main thread: the covariance and eigendecomposition of a
 * few thousand 1280-d vectors take seconds of pure CPU, which would stall the bot's gateway
 * heartbeats and every reply if they ran on the event loop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { fitWhitening } from "../whitening.ts";
import type { FitReply, FitRequest } from "./fit-in-worker.ts";

const request = workerData as FitRequest;
let reply: FitReply;
try {
  const { rows, dimension, data, options } = request;
  const vectors = Array.from({ length: rows }, (_, i) => data.subarray(i * dimension, (i + 1) * dimension));
  reply = { ok: true, whitening: fitWhitening(vectors, options) };
} catch (error) {
  reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
}
parentPort!.postMessage(reply);
