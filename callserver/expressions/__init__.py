"""Expressions written in configuration: one lexer and error type, and the condition language.

`lexer.py` is shared by the ACD's skill requirements (`acd/expr.py`) and by `conditions.py`, the
condition language over call and customer data that IVR branches use and dialogue scripts will.
Why these stay two languages: docs/expressions.md.
"""
