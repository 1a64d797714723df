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
