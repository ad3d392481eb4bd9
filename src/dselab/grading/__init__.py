"""Grading: a lab's checks as a signed report with evidence, and an instructor's gradebook.

One job per module: `run` (the grading run), `report` (the report's data), `signing` (HMAC over
canonical JSON), `keys` (course key files), `junit` (JUnit XML), `report_files` (a report on
disk), `report_input` (find and read report files safely), `report_shape` (is this JSON a report),
`gradebook` (verify and aggregate reports) and `gradebook_files` (CSV / HTML). Callers import
from the module that defines a name (nothing is re-exported here: `gradebook` the module and
`gradebook` the function stay two things).
"""
