"""Persistent agent lines: the agent's phone connected once and kept, each call bridged into it."""
