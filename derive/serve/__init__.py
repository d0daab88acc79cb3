"""The practice page, `derive serve`: a local web app (Starlette, served by uvicorn) where a student picks a
problem, types a gradient in LaTeX, sees it rendered, and gets derive's verdict and diagnosis.

- `app`: the routes, the deciding of answers in isolated processes (as `derive verify`), the answer log;
- `problems`: the problems offered, read once at start; `statement`: a problem's exercise sheet as HTML;
- `mathml`: LaTeX as MathML rebuilt from an allow-list, and the bounded preview of a student's text;
- `limits`: the bounds on a request's size and on each client's rate; `config`: the settings, which reach
  uvicorn's worker processes through the environment; `page`: the page from its template.

It builds on grade (deciding answers) and write (the exercise sheet, the templates); only the command line
imports it, and it imports nothing eagerly (Starlette is loaded by `app`).
"""
