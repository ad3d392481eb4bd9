"""Cluster runtimes: the local (embedded) default and Docker Compose, behind one protocol."""
