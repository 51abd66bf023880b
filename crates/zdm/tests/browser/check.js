// Loads zdm's HTML reports in headless Chromium (one launch for all pages) and prints one JSON object per
// page and width: horizontal overflow, SQL blocks, timeline blocks, and, under print media, whether every
// collapsed section's content is laid out. Screenshots go to the directory given.
// Usage: node check.js <chromium> <screenshot dir> <report.html>...
const { chromium } = require('playwright-core');

(async () => {
  const [exe, shots, ...files] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
  const results = [];
  try {
    for (const file of files) {
      for (const width of [1280, 390]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        await page.goto('file://' + file);
        const screen = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          sqlUp: [...document.querySelectorAll('pre.sql-up')].map((p) => [p.dataset.step, p.textContent.length]),
          sqlDown: document.querySelectorAll('pre.sql-down').length,
          blocks: document.querySelectorAll('svg.timeline rect.step').length,
          timelineWidth: document.querySelector('svg.timeline')?.getBoundingClientRect().width ?? 0,
          closedVisible: [...document.querySelectorAll('details:not([open]) > :not(summary)')].filter((e) => e.checkVisibility()).length,
          closed: document.querySelectorAll('details:not([open]) > :not(summary)').length,
        }));
        const name = file.split('/').pop().replace(/\.html$/, '');
        await page.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: true });
        if (width === 1280) await page.screenshot({ path: `${shots}/${name}-${width}-top.png` });
        await page.emulateMedia({ media: 'print' });
        const print = await page.evaluate(() => ({
          hidden: [...document.querySelectorAll('details > :not(summary)')].filter((e) => !e.checkVisibility()).length,
          sections: document.querySelectorAll('details > :not(summary)').length,
          preOverflow: [...document.querySelectorAll('pre')].filter((p) => p.scrollWidth > p.clientWidth + 1).length,
        }));
        results.push({ file, width, ...screen, print });
        await page.close();
      }
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(results));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
