"""Shared media I/O: everything that reads or writes video and audio, and nothing above it.

``preflight.check``, ``preflight.fix`` and ``qa`` build on these modules; no module here imports
from them.
"""
