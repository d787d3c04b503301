"""Importers: data.police.uk street-level files, a force's own record extract, and the delivery
tracker. Every input row is either loaded or set aside with its file, line and reason."""
