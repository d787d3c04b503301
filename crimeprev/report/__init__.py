"""Meeting-ready exports: the slide deck (.pptx), the workbook (.xlsx) and the single-file HTML
report, each laid out from one collection of the figures (`content.collect`), so that they
agree with each other and with the dashboard by construction.

Import the part you need: `render` (charts to PNG and SVG) is all the dashboard's pages use on
every run; `exports` builds whole reports.
"""
