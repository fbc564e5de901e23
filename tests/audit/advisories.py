"""Reconciles cargo-audit's report with the reasoned list in advisories.toml.

    cargo-audit audit --json ... | python3 tests/audit/advisories.py tests/audit/advisories.toml

Prints every advisory found, then fails (exit 1) on an advisory that the list
does not name, on a list entry that is no longer reported, and on an entry
marked `compiled = false` whose crate `cargo tree` finds in the build.
"""
import json
import subprocess
import sys
import tomllib


def reported(report):
    """(id, crate, version, kind) of every advisory in a cargo-audit JSON report."""
    found = [(v["advisory"]["id"], v["package"]["name"], v["package"]["version"], "vulnerability")
             for v in report["vulnerabilities"]["list"]]
    for kind, warnings in report["warnings"].items():
        found += [(w["advisory"]["id"], w["package"]["name"], w["package"]["version"], kind)
                  for w in warnings if w.get("advisory")]
    return found


def compiled(crate):
    """Whether cargo builds `crate` for any target (normal, build or dev edge)."""
    tree = subprocess.run(["cargo", "tree", "--locked", "--offline", "--target", "all",
                           "--edges", "normal,build,dev", "--invert", crate],
                          capture_output=True, text=True)
    if tree.returncode == 0:
        return tree.stdout.strip() != ""   # in Cargo.lock, but nothing builds it: empty
    if "did not match any packages" in tree.stderr:
        return False
    sys.exit(f"audit: FAILED: cargo tree could not tell whether {crate} is built:\n{tree.stderr}")


def main():
    with open(sys.argv[1], "rb") as f:
        listed = {a["id"]: a for a in tomllib.load(f)["advisory"]}
    found = reported(json.load(sys.stdin))
    problems = []
    for advisory_id, crate, version, kind in found:
        entry = listed.get(advisory_id)
        print(f"audit:   {advisory_id} {crate} {version} ({kind}): "
              + ("known, see advisories.toml" if entry else "NOT in advisories.toml"))
        if entry is None:
            problems.append(f"{advisory_id} ({crate} {version}, {kind}) is not in {sys.argv[1]}")
    for advisory_id, entry in listed.items():
        if advisory_id not in {f[0] for f in found}:
            problems.append(f"{advisory_id} is listed but no longer reported: remove it")
        elif not entry["compiled"] and compiled(entry["crate"]):
            problems.append(f"{advisory_id}: {entry['crate']} is listed as never compiled, "
                            f"but `cargo tree --invert {entry['crate']}` finds it in the build")
    for problem in problems:
        print(f"audit: FAILED: {problem}")
    if problems:
        sys.exit(1)
    print(f"audit: {len(found)} advisories found, every one known")


if __name__ == "__main__":
    main()
