"""PBX simulator: a stand-in for Asterisk 22 speaking AMI and FastAGI over TCP."""

from callserver.sim.simulator import PbxSimulator, run_simulator
from callserver.sim.traffic import CallerRecord, CallHandle, Outcome

__all__ = ["CallHandle", "CallerRecord", "Outcome", "PbxSimulator", "run_simulator"]
