"""The commissioning pack: static HTML pages (England, each ICB, each sub-ICB location) and a PDF
of each, read from the published release.

- `data`: every table the pack shows, read from the release catalog in a few set-based queries;
- `charts`: the Vega-Lite chart specifications (built with Altair once per kind of chart);
- `pages`: one area's page, shaped from the tables;
- `render`: writes the folder (pages, the Vega bundle, the stylesheet, pack.json);
- `pdf`: prints each page to PDF in headless Chromium.
"""
