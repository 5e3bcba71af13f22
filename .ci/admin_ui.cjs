// An operator in the Django admin, in headless Chromium: log in, edit a task (a non-member
// assignee is refused on the field, then a new title is saved), remove a member from a
// project. smoke.py made the data and checks the result through the API afterwards.
// Usage: node .ci/admin_ui.cjs BASE '{"email", "password", "taskId", "title", "member",
//        "stranger", "project"}'   (playwright-core on NODE_PATH)
const { chromium } = require("playwright-core");

async function main() {
const base = process.argv[2];
const given = JSON.parse(process.argv[3]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const failures = [];
const check = (ok, message) => { console.log(`${ok ? "ok " : "FAIL"} ${message}`); if (!ok) failures.push(message); };

try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const serverErrors = [];
  page.on("response", (response) => { if (response.status() >= 500) serverErrors.push(response.url()); });

  await page.goto(`${base}/admin/login/?next=/admin/`);
  await page.fill("#id_username", given.email);
  await page.fill("#id_password", given.password);
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click("input[type=submit]")]);
  check(true, "the operator logs into the admin");

  // Pick a user in an autocomplete (select2) field, as a person does: open, type, click.
  async function choose(field, email) {
    await page.locator(`#id_${field} + .select2`).click();
    await page.locator(".select2-container--open .select2-search__field").fill(email);
    await page.locator(".select2-results__option", { hasText: email }).first().click();
  }

  const taskUrl = `${base}/admin/tasks/task/${given.taskId}/change/`;
  await page.goto(taskUrl);
  await page.fill("#id_title", given.title);
  await choose("assignee", given.stranger);
  await Promise.all([page.waitForLoadState("load"), page.click("input[name=_save]")]);
  const error = await page.locator(".field-assignee .errorlist").textContent();
  check(/must be a member/.test(error), `a non-member assignee is refused on the field: "${error.trim()}"`);

  await choose("assignee", given.member);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/admin/tasks/task/"),
    page.click("input[name=_save]"),
  ]);
  const saved = await page.locator(".messagelist .success").first().textContent();
  check(saved.includes(given.title), `the task is saved with its new title: "${saved.trim()}"`);

  const members = `${base}/admin/projects/membership/?role__exact=member&q=${encodeURIComponent(given.member)}`;
  await page.goto(members);
  const rows = page.locator("#result_list tbody tr");
  check((await rows.count()) === 1, "the member's membership is found by their email");
  await rows.first().locator("th a").click();
  await page.locator("a.deletelink").click();
  await Promise.all([
    // Back to the list, with its filters kept.
    page.waitForURL((url) => url.pathname === "/admin/projects/membership/"),
    page.click("#content form input[type=submit]"),
  ]);
  const removed = await page.locator(".messagelist .success").first().textContent();
  check(/deleted successfully/.test(removed), `the member is removed: "${removed.trim()}"`);
  check(serverErrors.length === 0, `no 5xx on the way ${JSON.stringify(serverErrors)}`);
} catch (error) {
  check(false, `the admin walk-through: ${error.message.split("\n")[0]}`);
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
}

main().catch((error) => { console.error(error); process.exit(1); });
