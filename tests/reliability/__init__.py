"""Reliability suites: kills, power loss, I/O faults, damaged files, bad input, processes."""
