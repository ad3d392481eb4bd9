"""Classroom seats: one Linux server hosts every student's cluster; grades live where no student can write.

A seat is a Unix user with a home holding the student scripts, a network namespace of its own
(so every seat uses the lab's usual addresses and ports, and no seat can reach another's), and
the lab cluster running as that user inside the namespace. The server (root) keeps the roster,
attempts, answers, baselines and the course key in a store no seat can read, and runs every
check in a process of its own.
"""
