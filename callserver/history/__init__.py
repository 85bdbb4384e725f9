"""Call history for supervisors: the timeline of a call, built from the facts the store logged."""
