import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../support/paths.js";

/**
 * The `qaq` command however it is installed: the tarball `npm pack` makes (of the dist/ this test run built) installed
 * into a fresh folder (node_modules/.bin/qaq, and `npx qaq` there) and globally (into a temporary prefix). npm starts
 * each through a symlink or a shim, which an entry-point check on argv[1] alone used to miss (the command printed
 * nothing and exited 0). Installing needs only the npm cache (--prefer-offline); the registry is the fallback.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "qaq-install-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", npm_config_loglevel: "error" };
const npm = (args: string[], cwd: string) => run("npm", args, { cwd, env: npmEnv, timeout: 120_000 });

test("the packed tarball installs and its qaq bin runs: local bin, npx and a global install", { timeout: 180_000 }, async () => {
  // prepack would rebuild: the test run already built dist/
  await npm(["pack", "--ignore-scripts", "--pack-destination", dir], PROJECT_ROOT);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote no tarball");

  const project = join(dir, "project");
  const prefix = join(dir, "global");
  for (const d of [project, prefix]) rmSync(d, { recursive: true, force: true });
  await run("mkdir", ["-p", project, prefix]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "uses-qaq", version: "1.0.0", private: true }));
  await npm(["install", "--prefer-offline", join(dir, tarball)], project);

  const local = await run(join(project, "node_modules", ".bin", "qaq"), ["generate", "-n", "8", "-p", "Once upon a time", "--json"], { timeout: 60_000 });
  const report = JSON.parse(local.stdout) as { generatedTokens: number; text: string };
  assert.equal(report.generatedTokens, 8);
  assert.ok(report.text.length > 0);

  const npx = await run("npx", ["--no-install", "qaq", "--help"], { cwd: project, env: npmEnv, timeout: 60_000 });
  assert.match(npx.stdout, /usage: qaq <command>/);

  await npm(["install", "--global", "--prefer-offline", "--prefix", prefix, join(dir, tarball)], project);
  const global = await run(join(prefix, "bin", "qaq"), ["inspect", "--help"], { timeout: 60_000 });
  assert.match(global.stdout, /usage: qaq inspect FILE/);
  // a usage error through the installed bin keeps its exit code
  await assert.rejects(run(join(prefix, "bin", "qaq"), ["generate", "--bogus"]), (e: { code?: number; stderr?: string }) => e.code === 2 && /unknown flag --bogus/.test(e.stderr ?? ""));
});
