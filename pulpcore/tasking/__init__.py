"""Tasking: one dispatch interface, two ways for ready tasks to reach workers."""
