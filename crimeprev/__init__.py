"""Crime Prevention Strategy dashboard: the core, usable without the UI."""
