#!/usr/bin/env python3
"""Runs the example CI files of docs/ci/ locally, as their engines would.

    grader/test/ci_examples.py

github-classroom.yml: the mark job's `run:` steps, in order, for task-01,
with the two checkouts as links to this workbook (its stubs are the
submission) and GITHUB_OUTPUT a file; then the Classroom step's command,
with the max-score its expression names. gitlab-ci.yml: the mark job's
script, line by line, for TASK=task-01, with the clone replaced by this
workbook. Steps that only install packages or fetch code are the engine's
and are skipped (said below). Checks: the matrices list exactly this
workbook's tasks; every rendering the files upload exists and validates
(validate_marking.py); the outputs Classroom reads are set; the stub is not
given full marks. Ends with "N passed, M failed".
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

root = pathlib.Path(__file__).resolve().parents[2]
ci = root / "docs" / "ci"
tasks = sorted(p.name for p in (root / "exercises").iterdir() if re.fullmatch(r"task-\d\d", p.name))
results = []


def report(ok, what, why=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not why else ": " + why))


def run(command, cwd, env):
    print(f"     $ {command}")
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env={**os.environ, **env},
                       capture_output=True, text=True, timeout=900)
    return r.returncode, r.stdout + r.stderr


def engine_only(command):
    return command.startswith("apt-get ") or command.startswith("git clone ")


def check_results(where, label):
    out = where / "results"
    files = [out / n for n in ("exercism.json", "gradescope.json", "junit.xml")]
    missing = [f.name for f in files + [out / "marking.json"] if not f.exists()]
    report(not missing, f"{label}: every rendering written", "missing " + ", ".join(missing))
    if not missing:
        r = subprocess.run([str(root / "grader/test/validate_marking.py"), *map(str, files)], capture_output=True, text=True)
        report(r.returncode == 0, f"{label}: the renderings validate (Exercism v3, Gradescope, JUnit XSD)", r.stdout[-800:])


github = yaml.safe_load((ci / "github-classroom.yml").read_text())
gitlab = yaml.safe_load((ci / "gitlab-ci.yml").read_text())
job = github["jobs"]["mark"]
report(job["strategy"]["matrix"]["task"] == tasks, "github-classroom.yml's matrix lists every task of this workbook")
report(gitlab["mark"]["parallel"]["matrix"][0]["TASK"] == tasks, "gitlab-ci.yml's matrix lists every task of this workbook")

with tempfile.TemporaryDirectory(prefix="workbook-ci-") as tmp:
    # GitHub Actions: the two checkouts, then the steps that run commands.
    gh = pathlib.Path(tmp) / "github"
    gh.mkdir()
    (gh / "workbook").symlink_to(root)
    (gh / "submission").symlink_to(root)
    outputs = gh / "github_output"
    outputs.touch()
    env = {"GITHUB_OUTPUT": str(outputs)}
    steps = {}
    for step in job["steps"]:
        if "run" not in step:
            print(f"     (the engine's: {step['name']}, {step.get('uses')})")
            steps[step.get("id")] = step
            continue
        command = step["run"].replace("${{ matrix.task }}", "task-01")
        if engine_only(command):
            print(f"     (the engine's: {command})")
            continue
        code, output = run(command, gh, env)
        report(code == 0, f"github-classroom.yml: '{step['name']}' exits 0", output[-800:])
    check_results(gh, "github-classroom.yml")
    set_outputs = dict(line.split("=", 1) for line in outputs.read_text().split())
    marking = json.loads((gh / "results" / "marking.json").read_text())
    report(set_outputs.get("max_score") == str(marking["max_score"]) and marking["max_score"] > 0
           and set_outputs.get("score") == "0",
           "github-classroom.yml: the mark step sets score=0 and max_score as marked, for task-01's stub", str(set_outputs))
    points = steps["points"]["with"]
    report(points["max-score"] == "${{ steps.mark.outputs.max_score }}", "the Classroom step takes its points from those outputs")
    code, output = run(points["command"], gh, env)
    report(code == 1, "the Classroom step's command refuses the stub full marks", output[-400:])

    # GitLab CI: the job's script, with the clone replaced by this workbook.
    gl = pathlib.Path(tmp) / "gitlab"
    gl.mkdir()
    mark = gitlab["mark"]
    for command in mark["before_script"]:
        print(f"     (the engine's: {command})")
    env = {"CI_PROJECT_DIR": str(root), "TASK": "task-01"}
    for command in mark["script"]:
        code, output = run(command.replace("/tmp/workbook", str(root)), gl, env)
        report(code == 0, f"gitlab-ci.yml: '{command[:60]}…' exits 0", output[-800:])
    report(mark["artifacts"]["reports"]["junit"] == "results/junit.xml" and (gl / "results/junit.xml").exists(),
           "gitlab-ci.yml: the JUnit report is where artifacts:reports:junit looks")
    check_results(gl, "gitlab-ci.yml")

failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
