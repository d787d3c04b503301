"""Presentation shared by pages and exports: Altair charts and the overview's narrative."""
