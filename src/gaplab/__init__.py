"""gaplab: a chaos-and-readiness lab for AI features.

The lab drives a target AI feature with virtual users while playing its LLM provider,
breaks the provider and the network on a scripted timeline, and scores what users saw.
"""

__version__ = "0.1.0"
