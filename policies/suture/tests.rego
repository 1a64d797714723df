# A fix may add tests, never weaken them.
package suture

deny contains violation(
	"tests/deleted",
	sprintf("%s is a test file and the change deletes it; fixes must keep existing tests", [f.path]),
	f.path,
) if {
	some f in input.files
	f.isTest == true
	f.status == "deleted"
}

deny contains violation(
	"tests/assertion-removed",
	sprintf("%s:%d: the change removes or rewrites the check `%s`; fixes must keep existing assertions", [a.path, a.line, a.text]),
	a.path,
) if {
	some a in input.tests.removedAssertions
}

deny contains violation(
	"tests/skip-added",
	sprintf("%s:%d: the change skips a test (`%s`); fixes must keep every test running", [s.path, s.line, s.text]),
	s.path,
) if {
	some s in input.tests.addedSkips
}
