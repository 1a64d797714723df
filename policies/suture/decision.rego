# The suture policy gate. Entrypoint: suture/decision (data.suture.decision).
#
# Every rule file in this package adds violations to one of two sets:
#   deny   - the change must not be proposed at all;
#   review - the change may be proposed, but a human must approve it.
# The decision is the strongest level any violation reaches; a change with no violation is allowed.
# The input document is described in policies/README.md.
package suture

# Violations sorted by id then path, so the output is stable whatever order the rules fire in.
decision := {
	"decision": outcome,
	"violations": array.concat(
		[with_level(v, "deny") | some v in sort(deny)],
		[with_level(v, "review") | some v in sort(review)],
	),
}

outcome := "deny" if {
	count(deny) > 0
} else := "review" if {
	count(review) > 0
} else := "allow"

with_level(v, level) := {"id": v.id, "message": v.message, "path": v.path, "level": level}

violation(id, message, path) := {"id": id, "message": message, "path": path}

# The input shape is versioned; anything else fails closed.
deny contains violation(
	"input/schema",
	"the policy input is not a suture schema 1 document; rebuild the bundle or upgrade suture",
	"",
) if {
	not input.schema == 1
}

# A missing array would silently disable every rule that reads it, so each one must be present.
deny contains violation(
	"input/schema",
	concat("", ["the policy input has no ", name, " array; it was not built by suture's input builder"]),
	"",
) if {
	some name in ["files", "kubernetes", "dockerfiles", "dependencies", "secrets"]
	not has_array(name)
}

deny contains violation(
	"input/schema",
	concat("", ["the policy input has no tests.", name, " array; it was not built by suture's input builder"]),
	"",
) if {
	some name in ["removedAssertions", "addedSkips"]
	not has_tests_array(name)
}

has_array(name) if is_array(input[name])

has_tests_array(name) if is_array(input.tests[name])
