"""The one PBX interface every capability uses: events, actions and their errors, dialplan names.

`events.py` is what the PBX tells us, `actions.py` what we may ask of it, `dialplan.py` every context
name and channel variable of `asterisk/extensions_callserver.conf`, and `hub.py` the subscription
point through which each component receives the PBX events it lists. The AMI and FastAGI adapters
implement this interface; nothing above them knows AMI spellings.
"""
