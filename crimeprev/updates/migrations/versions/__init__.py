"""The update store's migrations, oldest first."""
