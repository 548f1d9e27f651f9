import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package (installed by .ci/run as root), driven by
 * playwright-core, which never downloads a browser of its own. QAQ_CHROMIUM overrides the executable's path.
 * Without a Chromium the browser tests fail with this message instead of skipping in silence.
 */
export const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium"];

export function chromiumPath(): string {
  const fromEnv = process.env["QAQ_CHROMIUM"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const found = CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      `no Chromium found (looked at ${CHROMIUM_CANDIDATES.join(", ")}); install Debian's chromium ` +
        "(apt-get install chromium, as .ci/run does) or set QAQ_CHROMIUM",
    );
  }
  return found;
}

/** Launch headless Chromium; the caller closes it in a finally block. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // The CI container runs as root, where Chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
    timeout: 60_000,
  });
}
