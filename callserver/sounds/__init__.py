"""The sounds callserver plays: Asterisk's core sounds it relies on, and the prompts it produces
itself into one folder Asterisk reads (`callserver prompts build`).

Every name is defined once in `names.py`; `core.py` knows which names a stock Asterisk 22 ships;
`folder.py` says where the project's own prompts live and how Asterisk names them.
"""
