import { createDeflate, type Deflate, constants as zlibConstants } from "node:zlib";
import { WebSocket } from "ws";

/**
 * One client socket: serialises payloads in order and, when the client asked for
 * `compress=zlib-stream` (discord.js does when the optional `zlib-sync` package is installed),
 * sends them through one shared deflate stream flushed per message, as Discord does.
 */
export class GatewayConnection {
  #queue: Promise<void> = Promise.resolve();
  readonly #deflate: Deflate | null;

  constructor(
    readonly socket: WebSocket,
    compress: boolean,
  ) {
    this.#deflate = compress ? createDeflate() : null;
    socket.once("close", () => this.#deflate?.destroy());
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Resolves once the frame is handed to the socket; never rejects (a closed socket drops it, as a network would). */
  send(payload: unknown): Promise<void> {
    const json = JSON.stringify(payload);
    this.#queue = this.#queue.then(async () => {
      if (!this.isOpen) return;
      try {
        const frame = this.#deflate ? await deflateChunk(this.#deflate, json) : json;
        await new Promise<void>((resolve) => this.socket.send(frame, () => resolve()));
      } catch {
        // The socket closed mid-send: the frame is lost, as it would be on a real network.
      }
    });
    return this.#queue;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }
}

function deflateChunk(deflate: Deflate, json: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer) => chunks.push(chunk);
    const fail = (error: Error) => {
      stopListening();
      reject(error);
    };
    const stopListening = () => {
      deflate.off("data", collect);
      deflate.off("error", fail);
    };
    deflate.on("data", collect);
    deflate.on("error", fail);
    deflate.write(json);
    deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
      stopListening();
      resolve(Buffer.concat(chunks));
    });
  });
}
