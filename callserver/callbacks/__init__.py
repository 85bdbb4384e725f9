"""Callback requests and tasks that dialogue scripts make: kept, timed, and handed to the ACD as tasks
(like voicemail messages) when they are due; the agent who gets one sees the answers that came
with it, calls the customer back and closes it with an outcome."""
