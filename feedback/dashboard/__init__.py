"""The managers' dashboard: figures summed in SQL from a daily rollup (or from the feedback itself when a filter
needs it), periods and buckets in the shop's time zone, server-rendered SVG charts, drill-down lists and CSV,
feedback against retention, and the weekly digest email."""
