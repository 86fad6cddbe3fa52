#!/usr/bin/python3
"""validate_profiles.py SCHEMA PROFILES_DIR INVALID_DIR MOCK_FIREWALL

Every shipped profile must be valid against the JSON Schema and load in mock-firewall
(`rules --json`); every profile in INVALID_DIR must be rejected by both, so the schema and
the loader cannot drift apart silently.
"""
import json
import pathlib
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_profiles: python3-jsonschema is not installed (scripts/setup installs it)")


def loads(tool, path):
    r = subprocess.run([tool, "rules", "--json", str(path)], capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()


def main():
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)
    failed = total = 0
    for p in sorted(pathlib.Path(sys.argv[2]).glob("*.json")):
        total += 1
        errs = list(v.iter_errors(json.load(open(p))))
        ok, msg = loads(sys.argv[4], p)
        if errs or not ok:
            failed += 1
            print(f"FAIL {p.name}: schema: {errs[0].message if errs else 'ok'}; loader: {msg or 'ok'}")
        else:
            print(f"ok   {p.name}: valid")
    for p in sorted(pathlib.Path(sys.argv[3]).glob("*.json")):
        total += 1
        ok, msg = loads(sys.argv[4], p)
        if v.is_valid(json.load(open(p))) or ok:
            failed += 1
            print(f"FAIL {p.name}: accepted (schema valid={v.is_valid(json.load(open(p)))}, loader={ok})")
        else:
            print(f"ok   {p.name}: rejected: {msg}")
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
