// Drives tutord's browser client (bridges/client) in Debian's headless Chromium, as a learner
// would: register, enrol in the seeded Python course, solve its first exercise and watch every
// test come back live, ask the tutor and watch the answer stream in, review a flashcard, train a
// CartPole agent and watch the chart and the episode. Also: a wrong password shows the server's
// message, and a course title made of HTML stays text (no script runs).
//
// Run by tests/api/test_browser.py, which starts tutord, seeds it and passes a JSON argument:
//   {"base": "http://127.0.0.1:PORT", "exercise": {"title", "solution", "tests"},
//    "evil_title": "..."}
// Exit 0 when every step held; otherwise the failing step and a screenshot path on stderr.
"use strict";

const { chromium } = require("playwright-core");

const args = JSON.parse(process.argv[2]);
const STEP_MS = 30000;
const steps = [];
let page = null;

async function step(name, fn) {
  const t0 = Date.now();
  await fn();
  steps.push(`${name}: ${Date.now() - t0} ms`);
}

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.TUTORD_CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"],
  });
  const pageErrors = [];
  try {
    const ctx = await browser.newContext();
    page = await ctx.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("dialog", (d) => { pageErrors.push("dialog opened: " + d.message()); d.dismiss(); });

    await step("page loads and shows health", async () => {
      await page.goto(args.base + "/");
      await page.waitForFunction(() => /health: (ok|degraded)/.test(document.getElementById("health-badge").textContent));
    });

    const email = `learner-${Date.now()}@example.org`;
    await step("wrong password shows the server's message", async () => {
      await page.fill("#login-email", "nobody-" + email);
      await page.fill("#login-password", "not the password");
      await page.click("#login-form button[type=submit]");
      await page.waitForFunction(() => {
        const s = document.getElementById("login-state");
        return s.classList.contains("bad") && s.textContent.length > 5;
      });
    });

    await step("register, sign in and go live", async () => {
      await page.fill("#login-email", email);
      await page.fill("#login-password", "correct horse battery");
      await page.click("#register");
      await page.waitForFunction((e) => document.getElementById("login-state").textContent === "signed in: " + e, email);
      await page.waitForFunction(() => document.getElementById("ws-state").textContent === "live: on");
    });

    await step("course list shows HTML titles as text", async () => {
      await page.waitForSelector("#course-list a");
      const titles = await page.$$eval("#course-list a", (as) => as.map((a) => a.textContent));
      check(titles.includes("Introduction to Python"), "the seeded course is listed: " + JSON.stringify(titles));
      check(titles.includes(args.evil_title), "the HTML title is listed as text");
      check(await page.evaluate(() => window.__xss === undefined), "no script from a title ran");
      check(await page.$$eval("#course-list img", (x) => x.length) === 0, "no element from a title");
    });

    await step("open the course and enrol", async () => {
      await page.click("#course-list a:text-is('Introduction to Python')");
      await page.waitForSelector("#course-tree a[data-kind=exercise]");
      await page.click("#enrol");
      await page.waitForFunction(() => /% done|enrolled/.test(document.getElementById("course-progress").textContent));
    });

    const ex = args.exercise;
    await step("solve the first exercise, tests stream in live", async () => {
      await page.click(`#course-tree a[data-kind=exercise]:text-is(${JSON.stringify(ex.title)})`);
      await page.waitForSelector("#code");
      await page.fill("#code", ex.solution);
      await page.click("#submit");
      await page.waitForFunction(() => /All tests pass/.test((document.getElementById("verdict") || {}).textContent || ""));
      const rows = await page.$$eval("#test-results li", (li) => li.map((x) => x.className));
      check(rows.length === ex.tests, `one live row per test (${rows.length} of ${ex.tests})`);
      check(rows.every((c) => c === "ok"), "every test row passed");
    });

    await step("the draft was autosaved", async () => {
      await page.waitForFunction(() => /saved \(v\d+\)/.test(document.getElementById("draft-state").textContent));
    });

    await step("a wrong solution shows its verdict", async () => {
      await page.fill("#code", "print('nope')\n");
      await page.click("#submit");
      await page.waitForFunction(() => /Verdict: /.test((document.getElementById("verdict") || {}).textContent || ""));
      const bad = await page.$$eval("#test-results li.bad", (li) => li.length);
      check(bad >= 1, "at least one failing test row");
    });

    await step("the tutor streams an answer", async () => {
      await page.fill("#tutor-text", "Can I have a hint?");
      await page.click("#tutor-form button[type=submit]");
      await page.waitForSelector("#tutor-log p.tutor.done");
      const text = await page.textContent("#tutor-log p.tutor.done");
      check(text.length > 20, "a real answer: " + text);
      check(/offline tutor/i.test(text), "marked as the offline tutor: " + text.slice(0, 80));
    });

    await step("add and review a flashcard", async () => {
      await page.click("#tabs button[data-tab=practice]");
      await page.fill("#card-front", "der Hund");
      await page.fill("#card-back", "the dog");
      await page.fill("#card-deck", "my-words");      // enrolling made a deck of the course's cards
      await page.click("#card-form button[type=submit]");
      await page.waitForFunction(() => document.getElementById("due-count").textContent === "card added");
      await page.click("#due-load");
      await page.waitForFunction(() => document.getElementById("review-front").textContent === "der Hund");
      await page.click("#review-show");
      check(await page.textContent("#review-back") === "the dog", "the back is revealed");
      await page.click("#review-rate button[data-rating='3']");
      await page.waitForFunction(() => /comes back/.test(document.getElementById("review-next").textContent));
    });

    await step("train CartPole, chart and episode", async () => {
      await page.click("#tabs button[data-tab=train]");
      await page.fill("#train-steps", String(args.train_steps || 8192));
      await page.click("#train-form button[type=submit]");
      await page.waitForFunction(() => document.getElementById("train-status").dataset.done === "1", null, { timeout: 180000 });
      const pts = Number(await page.getAttribute("#train-chart", "data-points"));
      check(pts >= 2, "the chart got a point per update: " + pts);
      const rows = await page.$$eval("#train-last td", (td) => td.length);
      check(rows >= 20, "the last metrics are shown");
      await page.click("#train-eval");
      await page.waitForFunction(() => Number(document.getElementById("train-anim").dataset.frames || 0) >= 10);
    });

    check(pageErrors.length === 0, "no page errors: " + pageErrors.join("; "));
    console.log(steps.join("\n"));
  } catch (err) {
    let shot = "";
    if (page) {
      shot = (process.env.TMPDIR || "/tmp") + `/tutord-browser-${process.pid}.png`;
      try { await page.screenshot({ path: shot, fullPage: true }); } catch { shot = "(no screenshot)"; }
    }
    console.log(steps.join("\n"));
    console.error(`FAILED after ${steps.length} steps: ${err.message}\nscreenshot: ${shot}\npage errors: ${pageErrors.join("; ")}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
