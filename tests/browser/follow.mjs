// A page that follows a running job says so when the server goes away.
// Started by tests/dashboard.rs, which stops the server once this prints
// "watching", then reads the last line.
//
//   node follow.mjs URL ADMIN_TOKEN
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const [url, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}/ui/login`);
  await page.getByLabel(/Token/).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/ui/`);
  await page.goto(`${url}/ui/scans/cis`);
  const banner = page.getByRole("alert").filter({ hasText: "cannot be reached" });
  const hiddenAtFirst = !(await banner.isVisible());
  console.log("watching");
  // Wait for the test to say the server is stopped.
  await new Promise((done) => createInterface({ input: process.stdin }).once("line", done));
  await banner.waitFor({ state: "visible", timeout: 20_000 });
  console.log(JSON.stringify({ hiddenAtFirst, shown: await banner.isVisible() }));
} finally {
  await browser.close();
}
