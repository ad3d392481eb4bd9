"""Helpers for lab checks modules in any lab root (disk.py: a node's data folders).

The checks themselves are content: `checks/labNN_name.py` in a lab root, see docs/writing-a-lab.md.
"""
