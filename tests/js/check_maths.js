#!/usr/bin/env node
// Typesets maths with KaTeX and with MathJax 3, as a browser showing derive's Markdown would, and reports what
// either refuses. Reads a JSON list of {"tex": "...", "display": true|false} on standard input; writes a JSON
// list, one {"katex": null|"error", "mathjax": null|"error"} per item, on standard output.
//
// Both are strict: KaTeX throws on any error or non-LaTeX input (throwOnError, strict "error"); MathJax runs its
// default TeX packages without `noundefined` (so an unknown command is an error, not red text), and an error is
// looked for where MathJax puts it: an <merror> node in the output, not an exception.
"use strict";

const katex = require("katex");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");
require("mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js");

// The packages MathJax 3 loads by default in a browser (tex-chtml/tex-svg), less noundefined, less the autoloader.
const PACKAGES = ["base", "ams", "newcommand"];

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const document = mathjax.document("", {
  InputJax: new TeX({ packages: PACKAGES }),
  OutputJax: new SVG({ fontCache: "none" }),
});

function katexError(tex, display) {
  try {
    katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
    return null;
  } catch (error) {
    return String(error.message || error);
  }
}

function mathjaxError(tex, display) {
  let node;
  try {
    node = document.convert(tex, { display });
  } catch (error) {
    return String(error.message || error);
  }
  const html = adaptor.outerHTML(node);
  const found = html.match(/<merror[^>]*data-mjx-error="([^"]*)"/) || html.match(/data-mjx-error="([^"]*)"/);
  if (found) return found[1];
  if (/<merror|class="mjx-merror"/.test(html)) return "merror node in the output";
  return null;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const items = JSON.parse(input);
  const results = items.map(({ tex, display }) => ({
    katex: katexError(tex, display),
    mathjax: mathjaxError(tex, display),
  }));
  process.stdout.write(JSON.stringify(results));
});
