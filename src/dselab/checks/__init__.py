"""Check functions, one module per lab; importing this package registers them all."""

from dselab.checks import backup_restore, environment  # noqa: F401
