"""The host tier of the classroom: a seat as a Unix user in its own network namespace (users,
namespaces, cgroup limits, the shared toolchain, the observer run as its own user), as root."""

