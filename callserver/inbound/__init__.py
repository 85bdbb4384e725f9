"""Inbound calls: the `inbound` FastAGI script every caller runs before the ACD queues them."""
