// A person's first steps in Swagger UI, in headless Chromium: register, log in, Authorize
// with the access token, call me/. Also: the page loads nothing from another host.
// Usage: node .ci/swagger_ui.cjs http://127.0.0.1:8000   (playwright-core on NODE_PATH)
const { chromium } = require("playwright-core");

async function main() {
const base = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const failures = [];
const check = (ok, message) => { console.log(`${ok ? "ok " : "FAIL"} ${message}`); if (!ok) failures.push(message); };

try {
  const page = await browser.newPage();
  const foreign = [];
  page.on("request", (request) => { if (!request.url().startsWith(base)) foreign.push(request.url()); });
  await page.goto(`${base}/api/docs/`);
  await page.waitForSelector(".opblock", { timeout: 20000 });

  async function execute(operationId, body) {
    const block = page.locator(`#operations-auth-${operationId}`);
    await block.locator(".opblock-summary").first().click();
    await block.locator(".try-out__btn").click();
    if (body) await block.locator("textarea.body-param__text").fill(JSON.stringify(body));
    await block.locator("button.execute").click();
    const status = block.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout: 20000 });
    const text = await block.locator(".live-responses-table .response-col_description .microlight").first().textContent();
    return { status: (await status.textContent()).trim(), body: text };
  }

  const email = `swagger-${Date.now()}@example.com`;
  const password = "swagger-ui-passphrase-1";
  const registered = await execute("auth_register_create", { email, password, name: "Swagger User" });
  check(registered.status === "201", `register from Swagger UI is 201 (got ${registered.status})`);

  const login = await execute("auth_login_create", { email, password });
  check(login.status === "200", `login from Swagger UI is 200 (got ${login.status})`);
  const access = JSON.parse(login.body).access;

  await page.locator("button.authorize").first().click();
  await page.locator(".modal-ux input").first().fill(access);
  await page.locator(".modal-ux button.authorize").first().click();
  await page.locator(".modal-ux button.btn-done").first().click();

  const me = await execute("auth_me_retrieve");
  check(me.status === "200", `me/ after Authorize is 200 (got ${me.status})`);
  check(JSON.parse(me.body).email === email, "me/ returns the registered user");
  check(foreign.length === 0, `the page requested nothing from another host ${JSON.stringify(foreign)}`);
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
}

main().catch((error) => { console.error(error); process.exit(1); });
