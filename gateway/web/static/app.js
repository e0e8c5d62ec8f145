// eTranscript Gateway: small progressive enhancements. Every page works without this file.
"use strict";

document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        const label = copy.textContent;
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = label; }, 1500);
      });
    }
    return;
  }
  const row = event.target.closest("tr[data-href]");
  if (row && !event.target.closest("a, button, form")) {
    window.location.assign(row.dataset.href);
  }
});

document.addEventListener("keydown", (event) => {
  const row = event.target.closest && event.target.closest("tr[data-href]");
  if (row && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    window.location.assign(row.dataset.href);
  }
});

// Forms marked data-confirm ask before they submit (the server asks again where it matters).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

/* batches and connection tests */

// The Test button of an outgoing connection (forms marked data-connection-test, whose value
// is the id of the result's live region). Without this code the form posts and the server
// redirects to the connection's page; with it, the page says "Test initiated" at once, then
// polls the status every 500 ms and shows the outcome in place.
const TEST_POLL_MS = 500;
const TEST_GIVE_UP_MS = 60000; // the probe's own timeouts end it well before

function utcTime(iso) {
  // "2026-03-01T12:34:56.789+00:00" -> "2026-03-01 12:34 UTC", as the server prints it.
  return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "";
}

function showTest(region, text, tone, when) {
  region.className = "test-result test-result--" + tone;
  const words = region.querySelector("[data-test-text]");
  const time = region.querySelector("[data-test-time]");
  if (words) { words.textContent = text; } else { region.textContent = text; }
  if (time) { time.textContent = when || ""; }
}

function testOutcome(region, status) {
  const failed = "Connection failed: " + (status.reason || status.message || "unknown reason");
  showTest(region, status.ok ? status.headline : failed, status.ok ? "ok" : "error",
    utcTime(status.tested_at));
  const message = document.querySelector('[data-test-message-for="' + region.id + '"]');
  if (message) { message.textContent = status.message || ""; }
  const reload = region.parentElement && region.parentElement.querySelector("[data-test-reload]");
  if (reload) { reload.remove(); }
}

async function pollTest(url) {
  const started = Date.now();
  for (;;) {
    await new Promise((done) => setTimeout(done, TEST_POLL_MS));
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) { throw new Error("status " + response.status); }
    const status = await response.json();
    if (status.state !== "running") { return status; }
    if (Date.now() - started > TEST_GIVE_UP_MS) { throw new Error("no result in time"); }
  }
}

async function runTest(form, region) {
  showTest(region, "Test initiated", "running", "");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)), // carries the CSRF token
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) { throw new Error("status " + response.status); }
    const started = await response.json();
    testOutcome(region, await pollTest(started.status_url));
  } catch (error) {
    showTest(region, "The test could not be followed here: reload the page to see its result.",
      "error", "");
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const target = form.dataset && form.dataset.connectionTest;
  const region = target && document.getElementById(target);
  if (!region || !window.fetch || event.defaultPrevented) { return; }
  event.preventDefault();
  if (form.dataset.busy === "1") { return; } // one test at a time per button
  form.dataset.busy = "1";
  runTest(form, region).finally(() => { form.dataset.busy = ""; });
});

// A clickable table row (tr[data-href]) opens on Enter, but a control inside it (the Test
// button, a Delete link) must do its own thing: the row's keydown handler above would take
// the key first, so the key stops here, in the capture phase, before reaching it.
document.addEventListener("keydown", (event) => {
  const control = event.target.closest && event.target.closest("a, button, input, select, textarea");
  if (control && control.closest("tr[data-href]") && (event.key === "Enter" || event.key === " ")) {
    event.stopPropagation();
  }
}, true);

// A running batch's report: the counts and the bar follow the batch every second; the polite
// region speaks once, when it finishes, and offers the final lines.
const BATCH_POLL_MS = 1000;

function showProgress(box, data) {
  for (const [status, count] of Object.entries(data.counts)) {
    const cell = box.querySelector('[data-count="' + status + '"]');
    if (cell) { cell.textContent = String(count); }
  }
  const bar = box.querySelector("progress");
  if (bar) { bar.max = data.total; bar.value = data.done; bar.textContent = data.done + " of " + data.total; }
  const done = box.querySelector("[data-batch-done]");
  if (done) { done.textContent = String(data.done); }
}

function followBatch(box) {
  const state = box.querySelector("[data-batch-state]");
  const tick = async () => {
    try {
      const response = await fetch(box.dataset.batchProgress, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!response.ok) { return; } // the reload link stays
      const data = await response.json();
      showProgress(box, data);
      if (data.finished) {
        box.dataset.finished = "true";
        const link = document.createElement("a");
        link.href = window.location.pathname + window.location.search.replace(/([?&])notice=[^&]*&?/, "$1");
        link.textContent = "Show the final lines";
        state.textContent = "Finished: " + data.counts.delivered + " delivered, " +
          data.counts.failed + " failed. ";
        state.appendChild(link);
        return;
      }
    } catch (error) {
      return;
    }
    setTimeout(tick, BATCH_POLL_MS);
  };
  if (state) { state.textContent = "Running: the counts follow the batch as it goes."; }
  setTimeout(tick, BATCH_POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-batch-progress]");
  if (box && box.dataset.finished === "false" && window.fetch) { followBatch(box); }
});

// A page that shows work still running (a district data load) reloads itself until it is done.
document.addEventListener("DOMContentLoaded", () => {
  const running = document.querySelector("[data-reload-after]");
  if (running) { setTimeout(() => window.location.reload(), Number(running.dataset.reloadAfter)); }
});
