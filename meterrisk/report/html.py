"""HTML assembly: one self-contained page per file (inline CSS, inline SVG, no scripts, no
links outside the report folder), printable in greyscale."""

from __future__ import annotations

from html import escape

CSS = """
a { color: #111; }
body { font-family: sans-serif; margin: 1.5em auto; padding: 0 1em; max-width: 62em; color: #111;
       background: #fff; }  /* padding: a narrow screen (a tablet) keeps a margin */
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #888; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #e6e6e6; }
tr.flagged td { font-weight: bold; }
ul.reasons { margin: 0; padding-left: 1.1em; font-weight: normal; }
figure { margin: 0.8em 0; } figure svg { max-width: 100%; height: auto; }
figcaption, .note { font-size: 0.9em; color: #333; }
.cannot-tell { border-left: 4px solid #444; padding: 0.4em 0.8em; background: #f2f2f2; }
@media print { a { color: #000; text-decoration: none; } h2 { page-break-after: avoid; }
               figure { page-break-inside: avoid; } }
"""


def page(title: str, body: str, lang: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def table(header: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    """``rows`` hold HTML already escaped by the caller."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def reasons_list(reasons: list[str] | None) -> str:
    if not reasons:
        return ""
    return '<ul class="reasons">' + "".join(f"<li>{escape(r)}</li>" for r in reasons) + "</ul>"


def figure(svg: str, caption: str, figure_id: str) -> str:
    return f'<figure id="{figure_id}">\n{svg}\n<figcaption>{escape(caption)}</figcaption>\n</figure>'
