"""The calibrated demo extract and its multi-force scaled variant."""
