#!/usr/bin/python3
"""validate_schema.py SCHEMA ACCOUNTS INVALID_DIR

Checks that every account configuration in ACCOUNTS is valid against SCHEMA, and that
every document in INVALID_DIR (each a known-bad configuration) is rejected by it, so the
schema and the examples cannot drift apart silently.
"""
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_schema: python3-jsonschema is not installed (scripts/setup installs it)")


def main():
    schema = json.load(open(sys.argv[1]))
    accounts = json.load(open(sys.argv[2]))["accounts"]
    invalid = sorted(pathlib.Path(sys.argv[3]).glob("*.json"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)
    failed = 0
    for a in accounts:
        errs = list(v.iter_errors(a["config"]))
        if errs:
            failed += 1
            print(f"FAIL {a['username']}: {errs[0].message} at {list(errs[0].path)}")
        else:
            print(f"ok   {a['username']}: valid")
    for p in invalid:
        if v.is_valid(json.load(open(p))):
            failed += 1
            print(f"FAIL {p.name}: accepted but should be rejected")
        else:
            print(f"ok   {p.name}: rejected")
    total = len(accounts) + len(invalid)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed or not accounts or not invalid else 0


if __name__ == "__main__":
    sys.exit(main())
