#!/usr/bin/env node
/**
 * The `qaq` executable (package.json "bin"). It always runs the command line, however npm linked it (a symlink in
 * node_modules/.bin or a global bin folder, a cmd shim on Windows, npx's cache), so no entry-point check can miss.
 */
import { runProcess } from "./main.js";

await runProcess();
