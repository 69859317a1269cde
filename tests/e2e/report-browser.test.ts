import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '#drill/deployment';
import { runDrill } from '#drill/drill';

/** Chromium renders the drill's HTML report; the test reads what a responder would see first. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const run = existsSync(CHROMIUM) || process.env['CI'] === 'true';
const describeBrowser = run ? describe : describe.skip;

describeBrowser('the HTML incident report in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);
  afterAll(async () => browser?.close());

  it('shows the severity, the findings and what is still open, with the states the incident went through', async () => {
    const result = await runDrill({ approve: 'none', out: mkdtempSync(join(tmpdir(), 'report-e2e-')) });
    const report = JSON.parse(readFileSync(join(result.outDir, 'report.json'), 'utf8')) as { findings: unknown[]; openItems: string[] };
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${join(result.outDir, 'report.html')}`);
    expect(await page.locator('#severity').textContent()).toBe('CRITICAL: incident needs-attention');
    expect(Number(await page.locator('#findings-count').textContent())).toBe(report.findings.length);
    expect(report.findings.length).toBeGreaterThanOrEqual(10);
    const open = await page.locator('#do-now > ul').first().locator('li').allTextContents();
    expect(open).toEqual(report.openItems);
    expect(open.some((o) => /^Change the root password: overdue$/.test(o))).toBe(true);
    expect(await page.locator('#flow li.visited').allTextContents()).toEqual([
      'Snapshot Root Credentials',
      'Contain And Collect Evidence',
      'Assess Incident',
      'Notify Responders',
      'Confirmation Needed?',
      'Run Human Tasks',
      'Verify Incident',
      'Write Incident Report',
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'incident-report.png'), fullPage: false });
    await page.close();
  }, 60_000);
});
