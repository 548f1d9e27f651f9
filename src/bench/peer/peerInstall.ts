import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UnsupportedError } from "../../util/errors.js";

/**
 * The speed peer, llama.cpp, comes as the npm package node-llama-cpp, whose platform packages carry prebuilt
 * llama.cpp binaries. It is never a dependency of this project: the benchmark installs a pinned version on first
 * use into a folder of its own outside the project (default ~/.cache/qaq-peer/node-llama-cpp-<version>, or
 * $QAQ_PEER_DIR), from the npm registry only:
 *   --omit=optional   skips the GPU binary packages (CUDA, Vulkan: hundreds of MB); the CPU one is named explicitly
 *   --ignore-scripts  skips node-llama-cpp's postinstall, which would try to download or build llama.cpp
 *   NODE_LLAMA_CPP_SKIP_DOWNLOAD=true  the same, for an npm that runs scripts anyway
 * At run time the runner asks for the prebuilt binary with build: "never" and skipDownload, so nothing is fetched.
 */
export const PEER_PACKAGE = "node-llama-cpp";
export const PEER_VERSION = "3.22.1";

/** `${process.platform}-${process.arch}` -> the platform package holding that platform's CPU build. */
const PREBUILT_PACKAGES: Readonly<Record<string, string>> = {
  "linux-x64": "@node-llama-cpp/linux-x64",
  "linux-arm64": "@node-llama-cpp/linux-arm64",
  "darwin-arm64": "@node-llama-cpp/mac-arm64-metal",
  "darwin-x64": "@node-llama-cpp/mac-x64",
  "win32-x64": "@node-llama-cpp/win-x64",
  "win32-arm64": "@node-llama-cpp/win-arm64",
};

export interface PeerInstall {
  readonly dir: string;
  readonly packages: readonly string[];
  /** false when a matching install was already there */
  readonly installedNow: boolean;
}

export function peerDirectory(): string {
  return process.env["QAQ_PEER_DIR"] ?? join(homedir(), ".cache", "qaq-peer", `${PEER_PACKAGE}-${PEER_VERSION}`);
}

/** Installs the pinned peer into `dir` unless it is there already; fails with the reason npm gave. */
export function ensurePeerInstalled(dir: string): PeerInstall {
  const platformKey = `${process.platform}-${process.arch}`;
  const prebuilt = PREBUILT_PACKAGES[platformKey];
  if (prebuilt === undefined) {
    throw new UnsupportedError(`no prebuilt llama.cpp package for ${platformKey} (have: ${Object.keys(PREBUILT_PACKAGES).join(", ")})`);
  }
  const packages = [`${PEER_PACKAGE}@${PEER_VERSION}`, `${prebuilt}@${PEER_VERSION}`];
  if (installedVersion(dir, PEER_PACKAGE) === PEER_VERSION && installedVersion(dir, prebuilt) === PEER_VERSION) {
    return { dir, packages, installedNow: false };
  }
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`bench:peer: installing ${packages.join(" ")} into ${dir} ...\n`);
  try {
    execFileSync(
      "npm",
      ["install", "--prefix", dir, "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", ...packages],
      { cwd: dir, env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" }, stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split("\n").slice(-5).join(" | ");
    throw new UnsupportedError(`npm install of ${packages.join(" ")} into ${dir} failed: ${stderr || String(error)}`);
  }
  for (const name of [PEER_PACKAGE, prebuilt]) {
    const version = installedVersion(dir, name);
    if (version !== PEER_VERSION) throw new UnsupportedError(`after npm install, ${name} in ${dir} is ${version ?? "missing"}, not ${PEER_VERSION}`);
  }
  return { dir, packages, installedNow: true };
}

function installedVersion(dir: string, name: string): string | undefined {
  const manifest = join(dir, "node_modules", ...name.split("/"), "package.json");
  if (!existsSync(manifest)) return undefined;
  const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { version?: unknown };
  return typeof parsed.version === "string" ? parsed.version : undefined;
}
