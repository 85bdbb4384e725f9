"""Historical reports: the live figures kept per 15 minutes in aggregated tables, rolled up per
interval in the centre's time zone, described as data (docs/reports.md)."""
