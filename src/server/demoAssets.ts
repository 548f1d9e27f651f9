/**
 * `qaq serve`'s /demo/ route: the in-browser demo (dist/browser, built by `npm run build`) served as static files,
 * with the COOP/COEP headers that make the page cross-origin isolated (so the engine in the tab may use threads).
 * Only the files the build put in dist/browser are served: the URL is looked up in a list of them, never joined onto
 * a path, so nothing outside that folder can be named. The page runs the bundled stories260K in the tab; it never
 * calls this server's API.
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiError, errors } from "./apiErrors.js";

export const DEMO_PREFIX = "/demo/";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  wasm: "application/wasm",
  map: "application/json; charset=utf-8",
  bin: "application/octet-stream",
};

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, hence threads), and keep it same-origin. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export function isDemoPath(path: string): boolean {
  return path === "/demo" || path.startsWith(DEMO_PREFIX);
}

/** url path under /demo/ -> file in dist/browser, listed once on first use */
let listing: ReadonlyMap<string, string> | undefined;

function demoFiles(): ReadonlyMap<string, string> {
  if (listing !== undefined) return listing;
  const root = fileURLToPath(new URL("../../browser/", import.meta.url));
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(relative(root, path).split(sep).join("/"), path);
    }
  };
  try {
    walk(root);
  } catch {
    // not built: every demo path is a 404 saying so (and the listing is tried again next time)
    return new Map();
  }
  listing = files;
  return files;
}

export async function serveDemo(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") throw errors.methodNotAllowed(req.method ?? "?", path, "GET");
  if (path === "/demo") {
    res.writeHead(308, { Location: DEMO_PREFIX }).end();
    return;
  }
  const name = path === DEMO_PREFIX ? "index.html" : path.slice(DEMO_PREFIX.length);
  const files = demoFiles();
  const file = files.get(name);
  if (file === undefined) {
    if (files.size === 0) throw new ApiError(404, "not_found_error", "not_found", "the demo is not built: run npm run build");
    throw errors.notFound(path);
  }
  const body = await readFile(file);
  res.writeHead(200, {
    "Content-Type": CONTENT_TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream",
    "Content-Length": body.byteLength,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    ...ISOLATION_HEADERS,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
