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
