"""The soak test (`make soak`): callserver and the PBX simulator as two processes under steady
traffic and faults for a bounded time, sampled, then checked. See docs/soak.md."""
