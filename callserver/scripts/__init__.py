"""Dialogue scripts: the XML format and its schema, checks against the configuration, and the engine.

`read.load_script` / `read.read_script` read a file, `validate.check_script` checks it against a
`model.ScriptContext`, and `engine.ScriptRun` runs it with an agent or a web customer, returning
`commands` for an adapter. docs/scripts.md describes the format and these interfaces.
"""
