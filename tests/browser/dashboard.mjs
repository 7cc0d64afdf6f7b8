// A person's way through the dashboard, in Debian's Chromium driven by
// playwright-core. Started by tests/dashboard.rs against a real `serve`
// with agents; prints one JSON line of what it saw, fails loudly otherwise.
//
//   node dashboard.mjs URL ADMIN_TOKEN VIEWER_TOKEN SCREENSHOT_DIR
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const [url, adminToken, viewerToken, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const seen = {};

async function signIn(page, token) {
  await page.goto(`${url}/ui/`);
  assert.match(page.url(), /\/ui\/login$/, "an anonymous visit goes to sign-in");
  await page.getByLabel(/Token/).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/ui/`);
}

async function shoot(page, name) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: width === 1280 });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

try {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();

  // A wrong token is refused on the page.
  await page.goto(`${url}/ui/login`);
  await page.getByLabel(/Token/).fill("not-a-token-of-this-server");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not known" }).waitFor();

  // Overview as an admin.
  await signIn(page, adminToken);
  await page.getByRole("heading", { name: "Scans" }).waitFor();
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "cis", exact: true }) });
  await row.waitFor();
  await shoot(page, "overview");

  // The scan: what will be skipped, and by whom, before running.
  await page.getByRole("link", { name: "cis", exact: true }).click();
  await page.getByRole("heading", { name: "Scan cis" }).waitFor();
  const skipped = page.getByRole("row").filter({ hasText: "1.1.12" });
  assert.match(await skipped.innerText(), /the scan's skip list/);

  // Run now, then wait for its report.
  await page.getByRole("button", { name: "Run cis now" }).click();
  const notice = await page.getByRole("status").filter({ hasText: "started" }).innerText();
  const job = Number(notice.match(/Job (\d+) started/)[1]);
  seen.job = job;
  // The page follows the job by itself until its report is listed.
  await page
    .getByRole("link", { name: `report ${job}`, exact: true })
    .waitFor({ timeout: 90_000 });
  await shoot(page, "scan");

  // The report, filtered to failed items.
  await page.getByRole("link", { name: `report ${job}`, exact: true }).click();
  await page.getByRole("heading", { name: new RegExp(`^Report ${job}`) }).waitFor();
  await shoot(page, "report");
  await page.getByLabel("State").selectOption("fail");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/state=fail/);
  const items = page.locator("details.item");
  seen.failedItems = await items.count();
  assert.ok(seen.failedItems > 0, "a misconfigured node fails items");
  for (const text of await items.locator("summary").allInnerTexts()) {
    assert.match(text, /fail/, `only failed items are listed: ${text}`);
  }
  // Keyboard: an item opens with Enter.
  await items.first().locator("summary").focus();
  await page.keyboard.press("Enter");
  assert.equal(await items.first().getAttribute("open"), "");
  seen.firstFailed = (await items.first().locator("summary strong").innerText()).trim();

  // Download the CSV and read it.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "CSV", exact: true }).first().click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /^ID,Description,Remediation,State of Test,Node type,Nodes,Passed_Nodes,Failed_Nodes/);
  seen.csvHasFirstFailed = csv.includes(`\n${seen.firstFailed},`);
  seen.csvName = download.suggestedFilename();

  // cp-1's health as the report's node table gives it.
  const nodesTable = page.locator("section", { has: page.getByRole("heading", { name: "Nodes", exact: true }) });
  const cpHealth = (await nodesTable.locator("tr", { has: page.locator("th", { hasText: /^cp-1$/ }) }).locator("td").first().innerText()).trim();
  assert.match(cpHealth, /^(HIGH|MED|LOW)$/);

  // A failing node, its health and its evidence.
  await items.first().getByRole("link", { name: "cp-1" }).first().click();
  await page.getByRole("heading", { name: "Node cp-1" }).waitFor();
  const health = (await page.locator("dl.facts dt:text-is('Health') + dd").innerText()).trim();
  assert.equal(health, cpHealth, "the node page's health is the report's");
  const evidence = page.locator(`[id="r-${seen.firstFailed}"]`);
  assert.match(await evidence.innerText(), /fail/, "the node's row of that item fails");
  await shoot(page, "node");

  // Delete the report, confirming the dialog.
  await page.goto(`${url}/ui/scans/cis`);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: `Delete report ${job}` }).click();
  await page.getByRole("link", { name: `report ${job}`, exact: true }).waitFor({ state: "detached" });
  seen.deleted = job;

  // Sign out; a viewer sees no action, and the server refuses one anyway.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/ui\/login$/);
  await signIn(page, viewerToken);
  await page.goto(`${url}/ui/scans/cis`);
  assert.equal(await page.getByRole("button", { name: /Run cis now/ }).count(), 0);
  assert.equal(await page.getByRole("button", { name: /Delete report/ }).count(), 0);
  const csrf = await page.locator("header form input[name=csrf]").getAttribute("value");
  const refused = await page.request.post(`${url}/ui/scans/cis/run`, { form: { csrf } });
  seen.viewerRunStatus = refused.status();
  const stale = await page.request.post(`${url}/ui/reports/${job}/delete`, { form: { csrf: "forged" } });
  seen.forgedStatus = stale.status();
  await shoot(page, "viewer");

  // A report that is not there says so.
  const missing = await page.goto(`${url}/ui/reports/999999`);
  seen.missingStatus = missing.status();
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
