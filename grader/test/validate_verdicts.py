#!/usr/bin/env python3
"""Validates verdict JSON files against docs/verdict.schema.json.

    grader/test/validate_verdicts.py FILE_OR_DIR...

grader-scenarios writes one verdict per scenario (every status a case can
have) under build/<preset>/grader-logs/verdicts/; selftest runs this on them.
Prints one line per file and ends with "N passed, M failed".
"""
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_verdicts: python3-jsonschema is missing (it is in cmake/debian-packages.txt)")

root = pathlib.Path(__file__).resolve().parents[2]
schema = json.loads((root / "docs" / "verdict.schema.json").read_text())
validator = jsonschema.Draft202012Validator(schema)

files = []
for arg in sys.argv[1:]:
    p = pathlib.Path(arg)
    files += sorted(p.glob("*.json")) if p.is_dir() else [p]
if not files:
    sys.exit("validate_verdicts: no verdict files given (run grader-scenarios first)")

passed = failed = 0
for f in files:
    errors = sorted(validator.iter_errors(json.loads(f.read_text())), key=lambda e: list(e.path))
    if errors:
        failed += 1
        print(f"  ✗ {f.name}")
        for e in errors[:5]:
            print(f"      at /{'/'.join(map(str, e.path))}: {e.message}")
    else:
        passed += 1
        print(f"  ✓ {f.name}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
