"""`callserver doctor`: checks a deployment against the running Asterisk and says what is wrong,
one line per finding with the fix."""

from callserver.doctor.checks import run_doctor
from callserver.doctor.findings import Finding, Report, Status

__all__ = ["Finding", "Report", "Status", "run_doctor"]
