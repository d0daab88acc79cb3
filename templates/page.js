/* derive's web pages: what paper cannot do. The page reads without this script; with it the derivations fold
   together, a reference (3) jumps to its equation and shows it in place, shape lines and annotations hide. */
(function () {
  "use strict";
  var doc = document;
  function all(selector, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(selector)); }
  function rowOf(link) {
    var href = link.getAttribute("href") || "";
    return href.charAt(0) === "#" ? doc.getElementById(href.slice(1)) : null;
  }
  function reveal(element) {
    for (var d = element.closest("details"); d; d = d.parentElement ? d.parentElement.closest("details") : null) { d.open = true; }
  }

  /* the controls: shown only where they work */
  var toolbar = doc.querySelector(".toolbar");
  if (toolbar) {
    toolbar.hidden = false;
    if (!doc.querySelector("details.derivation")) { all("[data-action=fold], [data-action=unfold]", toolbar).forEach(function (b) { b.hidden = true; }); }
    if (!doc.querySelector("tr.shape")) { all("[data-action=shapes]", toolbar).forEach(function (b) { b.hidden = true; }); }
    if (!doc.querySelector("td.note:not(:empty)")) { all("[data-action=notes]", toolbar).forEach(function (b) { b.hidden = true; }); }
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      var action = button.getAttribute("data-action");
      if (action === "fold" || action === "unfold") {
        all("details.derivation").forEach(function (d) { d.open = action === "unfold"; });
      } else if (action === "shapes" || action === "notes") {
        var hidden = doc.body.classList.toggle(action === "shapes" ? "hide-shapes" : "hide-notes");
        button.setAttribute("aria-pressed", hidden ? "true" : "false");
      }
    });
  }

  /* a reference jumps to its equation (opening its derivation) and marks it for a moment */
  var marked = null, unmark = 0;
  function mark(row) {
    if (marked) { marked.classList.remove("highlight"); }
    marked = row;
    row.classList.add("highlight");
    clearTimeout(unmark);
    unmark = setTimeout(function () { row.classList.remove("highlight"); marked = null; }, 2500);
  }
  doc.addEventListener("click", function (event) {
    var link = event.target.closest("a.ref");
    var row = link && rowOf(link);
    if (!row) { return; }
    event.preventDefault();
    hide();
    reveal(row);
    row.scrollIntoView({ block: "center" });
    mark(row);
    try { history.replaceState(null, "", "#" + row.id); } catch (ignored) { /* some file:// pages refuse */ }
  });

  /* hovering or focusing a reference shows its equation in place */
  var popup = doc.createElement("div");
  popup.className = "popup";
  popup.id = "equation-popup";
  popup.setAttribute("role", "tooltip");
  popup.hidden = true;
  doc.body.appendChild(popup);
  function show(link) {
    var row = rowOf(link);
    if (!row || popup.contains(link)) { return; }
    var table = doc.createElement("table"), copy = row.cloneNode(true);
    table.className = "display";
    copy.removeAttribute("id");
    copy.classList.remove("highlight");
    table.appendChild(copy);
    popup.replaceChildren(table);
    popup.hidden = false;
    var box = link.getBoundingClientRect(), width = popup.offsetWidth;
    var left = Math.max(8, Math.min(box.left + window.scrollX, window.scrollX + doc.documentElement.clientWidth - width - 8));
    popup.style.left = left + "px";
    popup.style.top = (box.bottom + window.scrollY + 6) + "px";
    link.setAttribute("aria-describedby", popup.id);
  }
  function hide() { popup.hidden = true; }
  doc.addEventListener("mouseover", function (event) {
    var link = event.target.closest("a.ref");
    if (link) { show(link); } else if (!event.target.closest(".popup")) { hide(); }
  });
  doc.addEventListener("focusin", function (event) { var link = event.target.closest("a.ref"); if (link) { show(link); } });
  doc.addEventListener("focusout", function (event) { if (event.target.closest("a.ref")) { hide(); } });
  doc.addEventListener("keydown", function (event) { if (event.key === "Escape") { hide(); } });

  /* printing: every derivation open, as on paper */
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = all("details:not([open])");
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { closed.forEach(function (d) { d.open = false; }); closed = []; });
}());
