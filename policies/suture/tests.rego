# A fix may add tests, never weaken them.
package suture

deny contains violation(
	"tests/deleted",
	concat("", [f.path, " is a test file and the change deletes it; fixes must keep existing tests"]),
	f.path,
) if {
	some f in input.files
	f.isTest == true
	f.status == "deleted"
}

deny contains violation(
	"tests/assertion-removed",
	concat("", [a.path, ":", format_int(a.line, 10), ": the change removes or rewrites the check `", a.text, "`; fixes must keep existing assertions"]),
	a.path,
) if {
	some a in input.tests.removedAssertions
}

deny contains violation(
	"tests/skip-added",
	concat("", [s.path, ":", format_int(s.line, 10), ": the change skips a test (`", s.text, "`); fixes must keep every test running"]),
	s.path,
) if {
	some s in input.tests.addedSkips
}

# A test file moved or renamed may no longer be collected (tests/test_x.py -> tests/x_check.py), and one
# replaced by a symlink or a submodule may no longer be the same test.
deny contains violation(
	"tests/renamed",
	concat("", [f.oldPath, " is a test file and the change moves it to ", f.path, ", which the runner may no longer collect; fixes must keep existing tests where they are"]),
	f.path,
) if {
	some f in input.files
	f.isTest == true
	f.status == "renamed"
}

deny contains violation(
	"tests/renamed",
	concat("", [f.path, " is a test file and the change replaces it with a symlink or a submodule; fixes must keep existing tests"]),
	f.path,
) if {
	some f in input.files
	f.isTest == true
	f.status == "type-changed"
}

# Test-runner configuration is test code: a change to it can make a broken suite report green.
deny contains violation(
	"tests/runner-config",
	concat("", [r.reason, "; a candidate may not change how tests are collected or run"]),
	r.path,
) if {
	some r in input.tests.runnerConfig
}

# Code under test runs inside the runner's process: a reference to the runner from source code (or to its
# internals from a test) can rewrite results.
deny contains violation(
	"tests/runner-access",
	concat("", [a.path, ":", format_int(a.line, 10), ": the change reaches into the test runner (`", a.text, "`); code under test could forge test results"]),
	a.path,
) if {
	some a in input.tests.runnerAccess
}

review contains violation(
	"tests/process-hook",
	concat("", [h.path, ":", format_int(h.line, 10), ": the change takes over the process or its imports (`", h.text, "`), which could also decide what the test run reports; a human must approve it"]),
	h.path,
) if {
	some h in input.tests.processHooks
}
