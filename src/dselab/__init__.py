"""dselab: hands-on training lab and grader for Cassandra / DSE operations."""

__version__ = "0.1.0"
