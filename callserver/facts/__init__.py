"""Facts: what happened to calls and agents, and the bus that carries them to every consumer.

The ACD engine (and later campaigns) produce most facts, the agent's wrap-up and the IVR's
customer link the rest; the store, MQTT, the live web channel and the log consume them. This
package sits below every capability so that all of them can share it.
"""
