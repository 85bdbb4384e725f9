"""Capacity simulation: the routing engine on a virtual clock over a scenario (`callserver capacity`)."""
