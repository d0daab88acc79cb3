"""Writing derivations down: the documents and the files (the maths in them is printed by
`derive.core.printing`, the one printer).

- `render`: worked solutions as LaTeX and Markdown through the Jinja templates (the templates, in
  `templates/`, own the words);
- `output`: files written atomically, and PDFs compiled by pdflatex;
- `plots`: the check's error-against-step plot;
- `resources`: where the templates and examples are installed.

Write builds on `derive.core`; it does not compute numbers (`derive.check`) or derive (`derive.core`).
"""
