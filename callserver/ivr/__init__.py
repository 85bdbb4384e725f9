"""Interactive voice response: flows of named nodes (menus, digit collection, customer look-up,
business hours) validated from YAML, walked by an I/O-free engine and played over FastAGI."""

from callserver.ivr.engine import CallContext, FlowError, FlowRun
from callserver.ivr.model import FlowConfig, IvrConfig
from callserver.ivr.validate import validate_flows

__all__ = ["CallContext", "FlowConfig", "FlowError", "FlowRun", "IvrConfig", "validate_flows"]
