"""Statistics over the figures: year-on-year change, statistical process control, spike finding."""
