// The practice page's behaviour (derive serve): the problem picker, the live preview of the answer as it is
// typed (asked of the server, debounced), and Check (the verdict in the form's live region). Its words come
// from the page's data- attributes; maths comes from the server as MathML it has rebuilt from an allow-list.
"use strict";

(function () {
  const PREVIEW_DELAY = 300; // ms after the last key before the preview is asked for

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = { error: response.status + " " + response.statusText };
    }
    return data;
  }

  function showProblem(key) {
    for (const section of document.querySelectorAll("section.problem")) {
      section.hidden = section.dataset.key !== key;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("problem", key);
    window.history.replaceState(null, "", url);
  }

  function paragraph(className, text, mathml) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    if (mathml) {
      const span = document.createElement("span");
      span.className = "maths";
      span.innerHTML = mathml; // rebuilt by the server from an allow-list of MathML
      p.append(" ", span);
    }
    return p;
  }

  function setUp(form) {
    const textarea = form.querySelector("textarea");
    const preview = form.querySelector(".preview");
    const previewError = form.querySelector(".preview-error");
    const verdict = form.querySelector(".verdict");
    const details = form.querySelector(".details");
    let timer = null;
    let asked = 0;

    async function refresh() {
      const number = ++asked;
      const text = textarea.value;
      if (!text.trim()) {
        preview.innerHTML = "";
        previewError.textContent = "";
        return;
      }
      let data;
      try {
        data = await post("/api/preview", { text: text });
      } catch (error) {
        return; // the next key asks again
      }
      if (number !== asked) return; // a later preview is on its way
      if (data.mathml !== undefined) {
        preview.innerHTML = data.mathml; // rebuilt by the server from an allow-list of MathML
        preview.classList.remove("stale");
        previewError.textContent = "";
      } else {
        preview.classList.add("stale"); // the last preview that could be shown, dimmed
        previewError.textContent = data.error || "";
      }
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, PREVIEW_DELAY);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      refresh(); // the preview shows what is checked
      const chosen = form.querySelector("input[name=gradient]:checked");
      const button = form.querySelector("button.check");
      verdict.dataset.outcome = "";
      verdict.textContent = form.dataset.checking;
      details.replaceChildren();
      button.disabled = true;
      let data;
      try {
        data = await post("/api/check", {
          problem: form.dataset.problem,
          gradient: chosen ? chosen.value : "",
          answer: textarea.value,
        });
      } catch (error) {
        data = { error: form.dataset.failed };
      } finally {
        button.disabled = false;
      }
      if (data.line === undefined) {
        verdict.dataset.outcome = "error";
        verdict.textContent = data.error || form.dataset.failed;
        return;
      }
      verdict.dataset.outcome = data.outcome;
      verdict.textContent = data.line;
      if (data.diagnosis) details.append(paragraph("diagnosis", data.diagnosis));
      if (data.reason) details.append(paragraph("reason", data.reason));
      if (data.read_as) details.append(paragraph("read-as", form.dataset.readAs, data.read_as));
      if (data.answer) details.append(paragraph("gradient", form.dataset.answer, data.answer));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const picker = document.getElementById("problem");
    const open = document.querySelector("form.picker button.open");
    if (open) open.hidden = true; // the picker shows its problem at once
    if (picker) {
      picker.addEventListener("change", function () {
        showProblem(picker.value);
      });
    }
    for (const form of document.querySelectorAll("form.answer")) setUp(form);
  });
})();
