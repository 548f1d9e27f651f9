/**
 * The HTTP edges of the server on node:http: reading a JSON body under a size limit, writing JSON and errors, and
 * checking the API key. Nothing here reads a file: the server answers from memory only.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, errors } from "./apiErrors.js";

/**
 * Reads the body, refusing it (413) as soon as it is known to exceed `limit` bytes: from Content-Length before any
 * byte is read, else when the bytes read pass the limit. The bytes are never held beyond the limit.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(errors.tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        chunks.length = 0;
        reject(errors.tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
    // a client gone before the end of its body: nothing to answer (a no-op once the body was read)
    req.on("close", () => reject(errors.badJson("the request body ended early")));
  });
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw errors.badJson((error as Error).message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Sends an error in OpenAI's shape. After a 413 the rest of the body is not read: the connection is closed once the
 * answer is sent, so the unread bytes cannot be taken for the next request.
 */
export function sendError(res: ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const close: Record<string, string> = error.status === 413 ? { Connection: "close" } : {};
  sendJson(res, error.status, error.body(), { ...headers, ...close });
}

/**
 * Checks `Authorization: Bearer KEY` in constant time: both sides are hashed (SHA-256) first, so timingSafeEqual
 * compares two 32-byte digests whatever the lengths sent, and the time taken says nothing about the key.
 */
export class ApiKeyCheck {
  private readonly digest: Buffer;

  constructor(key: string) {
    this.digest = sha256(key);
  }

  accepts(req: IncomingMessage): boolean {
    const header = req.headers["authorization"] ?? "";
    const match = /^Bearer (.*)$/i.exec(header);
    return timingSafeEqual(sha256(match ? match[1]! : ""), this.digest) && match !== null;
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
