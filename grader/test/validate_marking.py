#!/usr/bin/env python3
"""Validates grader mark's renderings against the shapes their consumers read.

    grader/test/validate_marking.py [EXERCISM_JSON GRADESCOPE_JSON JUNIT_XML]

Without arguments it takes the golden renderings of grader-scenarios
(grader/test/scenarios/golden/marking.*: a task partly passing, one that does
not compile, one with a bonus; the scenario test proves the renderer writes
exactly these). Each is checked against docs/schemas/ (JSON Schema for
Exercism's results.json v3 and Gradescope's results.json, XSD for JUnit, with
xmllint), and then each schema is shown to bite: a copy broken the way a
consumer would choke on must be refused. Ends with "N passed, M failed".
"""
import copy
import json
import pathlib
import re
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    sys.exit("validate_marking: python3-jsonschema is missing (it is in cmake/debian-packages.txt)")

root = pathlib.Path(__file__).resolve().parents[2]
schemas = root / "docs" / "schemas"
golden = root / "grader" / "test" / "scenarios" / "golden"
files = [pathlib.Path(a) for a in sys.argv[1:]] or [golden / "marking.exercism.json",
                                                   golden / "marking.gradescope.json", golden / "marking.xml"]
if len(files) != 3:
    sys.exit("validate_marking: give the Exercism JSON, the Gradescope JSON and the JUnit XML, or nothing")

results = []


def report(ok, what, why=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not why else ": " + why))


def json_errors(schema_name, document):
    schema = json.loads((schemas / schema_name).read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=str)
    return [e.message for e in errors]


def junit_errors(text):
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(text)
    r = subprocess.run(["xmllint", "--noout", "--schema", str(schemas / "junit.xsd"), f.name],
                       capture_output=True, text=True)
    pathlib.Path(f.name).unlink()
    return [] if r.returncode == 0 else [r.stderr.strip()]


exercism = json.loads(files[0].read_text())
gradescope = json.loads(files[1].read_text())
junit = files[2].read_text()

errs = json_errors("exercism-results-v3.schema.json", exercism)
report(not errs, f"{files[0].name} is Exercism results v3", "; ".join(errs))
errs = json_errors("gradescope-results.schema.json", gradescope)
report(not errs, f"{files[1].name} is Gradescope results.json", "; ".join(errs))
try:
    errs = junit_errors(junit)
except FileNotFoundError:
    errs = ["xmllint is missing (libxml2-utils, in cmake/debian-packages.txt)"]
report(not errs, f"{files[2].name} is JUnit XML as docs/schemas/junit.xsd has it", "; ".join(errs))

# Each schema refuses what its consumer would: a copy broken one way each.
broken = []
e = copy.deepcopy(exercism); e["tests"][0]["output"] = "x" * 501
broken.append(("exercism-results-v3.schema.json", e, "a test output over 500 characters"))
e = copy.deepcopy(exercism); e["status"] = "error"; e["message"] = ""
broken.append(("exercism-results-v3.schema.json", e, "an error with an empty message"))
e = copy.deepcopy(exercism); e["version"] = 2
broken.append(("exercism-results-v3.schema.json", e, "another version"))
g = copy.deepcopy(gradescope); g["tests"][0]["status"] = "ok"
broken.append(("gradescope-results.schema.json", g, "a test status Gradescope does not know"))
g = copy.deepcopy(gradescope); del g["score"]; del g["tests"][0]["score"]
broken.append(("gradescope-results.schema.json", g, "no score anywhere"))
for schema, document, how in broken:
    report(bool(json_errors(schema, document)), f"{schema} refuses {how}")
if results[2]:
    report(bool(junit_errors(junit.replace(' classname="', ' class="', 1))), "junit.xsd refuses a testcase without a classname")
    report(bool(junit_errors(re.sub(r' tests="\d+"', ' tests="three"', junit, count=1))),
           "junit.xsd refuses a suite whose count is not a number")

failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
