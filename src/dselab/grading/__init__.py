"""Grading: a lab's checks as a signed report with evidence, and an instructor's gradebook.

One job per module: `run` (the grading run), `report` (the report's data), `signing` (HMAC over
canonical JSON), `keys` (course key files), `junit` (JUnit XML), `report_files` (a report on
disk), `report_input` (find and read report files safely), `report_shape` (is this JSON a report),
`gradebook` (verify and aggregate reports) and `gradebook_files` (CSV / HTML). The names
other code uses are re-exported here.
"""

from dselab.grading.gradebook import (
    MALFORMED,
    TAMPERED,
    UNSIGNED,
    UNVERIFIED,
    VALID,
    Gradebook,
    ReportCheck,
    StepStat,
    StudentScore,
    aggregate,
    check_report,
    gradebook,
    parse_report,
    verify_report,
)
from dselab.grading.gradebook_files import check_gradebook_out, gradebook_csv, write_gradebook
from dselab.grading.junit import junit_xml
from dselab.grading.keys import KEY_ENV, keygen, load_key
from dselab.grading.report import HISTORY, NOW, REPORT_FORMAT, STUDENT_ID, Report, StepGrade, check_student
from dselab.grading.report_files import write_report
from dselab.grading.report_input import MAX_REPORT_BYTES, FoundReport, find_reports, shown
from dselab.grading.report_shape import shape_problem
from dselab.grading.run import Checker, grade, report_from
from dselab.grading.signing import canonical, sign, signature_of

__all__ = [
    "HISTORY", "KEY_ENV", "MALFORMED", "MAX_REPORT_BYTES", "NOW", "REPORT_FORMAT", "STUDENT_ID", "TAMPERED",
    "UNSIGNED", "UNVERIFIED", "VALID", "Checker", "FoundReport", "Gradebook", "Report", "ReportCheck",
    "StepGrade", "StepStat", "StudentScore", "aggregate", "canonical", "check_gradebook_out", "check_report",
    "check_student", "find_reports", "grade", "gradebook", "gradebook_csv", "junit_xml", "keygen",
    "load_key", "parse_report", "report_from", "shape_problem", "shown", "sign", "signature_of", "verify_report",
    "write_gradebook", "write_report",
]
