// Opens Hallmark consumer pages in headless Chromium at a 360 px wide phone screen, writes a
// full-page screenshot of each (screen and print media) and prints, as one JSON document on
// stdout, each page's status, language, rendered text (innerText) and axe-core violations
// (WCAG 2.0/2.1 A and AA rules). Test-only; driven by tests/it/page_browser.rs.
//
//   node check.mjs <artefact dir> <name>=<url> [<name>=<url> …]
//
// Chromium: $CHROMIUM, else /usr/bin/chromium (Debian's package). The page's CSP is
// bypassed only so that axe can be injected; the page itself runs no script.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const axeVersion = JSON.parse(readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version;
const playwrightVersion = JSON.parse(
  readFileSync(require.resolve('playwright-core/package.json'), 'utf8'),
).version;

const [outDir, ...targets] = process.argv.slice(2);
if (!outDir || targets.length === 0) {
  console.error('usage: node check.mjs <artefact dir> <name>=<url> …');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const report = {
  chromium: browser.version(),
  playwright: playwrightVersion,
  axe: axeVersion,
  pages: [],
};
try {
  for (const target of targets) {
    const eq = target.indexOf('=');
    const name = target.slice(0, eq);
    const url = target.slice(eq + 1);
    // As a visitor sees it: the page's own CSP in force (a blocked stylesheet shows as a
    // console error and as unstyled elements).
    const context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
    });
    // Browsers also ask for /favicon.ico, which the node does not serve (a 404 the page is
    // not responsible for).
    await context.route('**/favicon.ico', (r) => r.fulfill({ status: 204, body: '' }));
    const page = await context.newPage();
    const logged = [];
    page.on('console', (m) => {
      if (m.type() === 'error') logged.push({ text: m.text(), url: m.location().url });
    });
    const response = await page.goto(url, { waitUntil: 'load' });
    // The document's own status (a suspended passport's page is a 410) is logged as a
    // failed load; that one is expected, anything else is an error.
    const status = response ? response.status() : 0;
    const consoleErrors = logged
      .filter((e) => !(e.url === url && e.text.includes(`status of ${status} `)))
      .map((e) => e.text);
    const screenshot = join(outDir, `${name}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    const text = await page.evaluate(() => document.body.innerText);
    const lang = await page.evaluate(() => document.documentElement.lang);
    const title = await page.title();
    // Does anything stick out of a 360 px screen (horizontal scrolling)?
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    const styled = await page.evaluate(() => {
      const s = document.querySelector('.status');
      return s !== null && getComputedStyle(s).borderTopStyle === 'solid';
    });
    await page.emulateMedia({ media: 'print' });
    const printShot = join(outDir, `${name}.print.png`);
    await page.screenshot({ path: printShot, fullPage: true });
    await context.close();
    // For axe only: the CSP bypassed so that its script can be injected.
    const axeContext = await browser.newContext({
      bypassCSP: true,
      viewport: { width: 360, height: 740 },
    });
    const axePage = await axeContext.newPage();
    await axePage.goto(url, { waitUntil: 'load' });
    await axePage.addScriptTag({ path: axePath });
    const axe = await axePage.evaluate(async () => {
      const r = await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        resultTypes: ['violations'],
      });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
    });
    await axeContext.close();
    report.pages.push({
      name,
      url,
      status,
      csp: response ? (response.headers()['content-security-policy'] ?? null) : null,
      lang,
      title,
      overflow,
      styled,
      text,
      axe,
      consoleErrors,
      screenshots: [screenshot, printShot],
    });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
