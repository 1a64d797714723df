package suture_test

test_clean_verified_fix_is_allowed if {
	outcome(clean) == "allow"
	count(decide(clean).violations) == 0
}

test_deny_beats_review if {
	inp := with_files([file(".github/workflows/ci.yml", "workflow"), file("docs/runbook.md", "other")])
	outcome(inp) == "deny"
	"repo/ci-edit" in ids(inp)
	some v in decide(inp).violations
	v.level == "review"
}

test_violations_carry_level_and_path if {
	inp := with_files([file(".github/workflows/ci.yml", "workflow")])
	some v in decide(inp).violations
	v == {
		"id": "repo/ci-edit",
		"message": ".github/workflows/ci.yml is CI/CD or repository automation (pipelines, actions, CODEOWNERS); automated fixes may not change it - make this edit by hand",
		"path": ".github/workflows/ci.yml",
		"level": "deny",
	}
}

test_unknown_schema_is_denied if {
	inp := with_({"schema": 1})
	outcome(inp) == "deny"
	"input/schema" in ids(inp)
}

test_missing_files_is_denied if {
	inp := json.remove(clean, ["files"])
	outcome(inp) == "deny"
	"input/schema" in ids(inp)
}

test_empty_input_is_denied if {
	outcome({}) == "deny"
}

test_every_missing_array_is_denied if {
	every path in [
		["files"], ["kubernetes"], ["dockerfiles"], ["dependencies"], ["secrets"], ["symlinks"],
		["tests", "removedAssertions"], ["tests", "addedSkips"], ["tests", "runnerConfig"],
		["tests", "runnerAccess"], ["tests", "processHooks"],
	] {
		inp := json.remove(clean, [concat("/", path)])
		outcome(inp) == "deny"
		"input/schema" in ids(inp)
	}
}

test_file_missing_a_field_the_rules_read_is_denied if {
	every field in ["path", "status", "kind", "isTest", "binary", "protected", "tooLarge", "aliases", "symlink"] {
		inp := with_({"files": [json.remove(source_file, [field]), regression_file]})
		outcome(inp) == "deny"
		"input/schema" in ids(inp)
	}
}

test_file_with_mistyped_field_is_denied if {
	inp := with_({"files": [object.union(source_file, {"tooLarge": "no"}), regression_file]})
	"input/schema" in ids(inp)
}

test_malformed_deny_entries_are_denied if {
	every extra in [
		{"symlinks": [{"path": "x", "target": "..", "escapesRepo": "yes"}]},
		{"tests": {"runnerConfig": [{"path": "conftest.py"}]}},
		{"tests": {"runnerAccess": [{"path": "app/cart.py", "text": "import _pytest"}]}},
		{"tests": {"addedSkips": [{"line": 3, "text": "@pytest.mark.skip"}]}},
	] {
		inp := with_(extra)
		outcome(inp) == "deny"
		"input/schema" in ids(inp)
	}
}

test_verdict_missing_or_mistyping_a_field_the_rules_read_is_denied if {
	every field in [
		"verdict", "reproduced", "fixed", "testsPassed", "regressionTest", "differential", "differential/status",
		"differential/compared", "fixedStatusClass", "installNetwork",
	] {
		inp := json.remove(clean, [concat("/", ["context", "verdict", field])])
		outcome(inp) == "deny"
		"input/schema" in ids(inp)
	}
	every bad in [
		{"differential": {"status": "skipped", "compared": 0, "mismatches": 0}},
		{"differential": {"status": "none", "compared": "0", "mismatches": 0}},
		{"fixedStatusClass": "5xx"},
		{"installNetwork": "bridge"},
		{"regressionTest": {"failsBefore": "yes", "passesAfter": true}},
	] {
		inp := with_({"context": {"verdict": bad}})
		outcome(inp) == "deny"
		"input/schema" in ids(inp)
	}
}
