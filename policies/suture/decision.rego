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

# The input shape is versioned; anything else fails closed. Schema 2 added file sizes and aliases, resolved
# symlinks, templated manifests, test-runner facts and the sandbox's install network; schema 3 the verdict's
# differential status (compared | none) and the status class of the fixed requests' answers.
input_schema := 3

deny contains violation(
	"input/schema",
	concat("", ["the policy input is not a suture schema ", format_int(input_schema, 10), " document; rebuild the bundle or upgrade suture"]),
	"",
) if {
	not input.schema == input_schema
}

# A missing array would silently disable every rule that reads it, so each one must be present.
deny contains violation(
	"input/schema",
	concat("", ["the policy input has no ", name, " array; it was not built by suture's input builder"]),
	"",
) if {
	some name in ["files", "kubernetes", "dockerfiles", "dependencies", "secrets", "symlinks"]
	not has_array(name)
}

deny contains violation(
	"input/schema",
	concat("", ["the policy input has no tests.", name, " array; it was not built by suture's input builder"]),
	"",
) if {
	some name in ["removedAssertions", "addedSkips", "runnerConfig", "runnerAccess", "processHooks"]
	not has_tests_array(name)
}

has_array(name) if is_array(input[name])

has_tests_array(name) if is_array(input.tests[name])

# Rules read these fields of every file; one missing or mistyped would silently disable them.
deny contains violation(
	"input/schema",
	concat("", ["the policy input describes a file without the fields the rules read (", json.marshal(f), "); it was not built by suture's input builder"]),
	"",
) if {
	some f in input.files
	not valid_file(f)
}

valid_file(f) if {
	is_string(f.path)
	is_string(f.status)
	is_string(f.kind)
	is_boolean(f.isTest)
	is_boolean(f.binary)
	is_boolean(f.protected)
	is_boolean(f.tooLarge)
	is_array(f.aliases)
	valid_symlink(f.symlink)
}

valid_symlink(null)

valid_symlink(s) if is_boolean(s.escapesRepo)

deny contains violation(
	"input/schema",
	concat("", ["the policy input describes manifest ", json.marshal(m.path), " without its errors and templated fields; it was not built by suture's input builder"]),
	"",
) if {
	some m in input.kubernetes
	not valid_manifest(m)
}

valid_manifest(m) if {
	is_array(m.errors)
	is_boolean(m.templated)
	is_array(m.before)
	is_array(m.after)
}

# Entries the deny rules build their messages from: a missing field would make the rule silently not fire.
deny contains violation(
	"input/schema",
	concat("", ["the policy input has a malformed ", name, " entry (", json.marshal(entry), "); it was not built by suture's input builder"]),
	"",
) if {
	some [name, entries] in [
		["symlinks", input.symlinks],
		["tests.runnerConfig", input.tests.runnerConfig],
		["tests.runnerAccess", input.tests.runnerAccess],
		["tests.addedSkips", input.tests.addedSkips],
	]
	some entry in entries
	not valid_entry(name, entry)
}

valid_entry("symlinks", l) if {
	is_string(l.path)
	is_string(l.target)
	is_boolean(l.escapesRepo)
}

valid_entry("tests.runnerConfig", r) if {
	is_string(r.path)
	is_string(r.reason)
}

valid_entry(name, l) if {
	name in {"tests.runnerAccess", "tests.addedSkips"}
	is_string(l.path)
	is_number(l.line)
	is_string(l.text)
}

# The verdict fields the verify rules read: one missing or mistyped would silently disable its rule.
deny contains violation(
	"input/schema",
	concat("", ["the policy input's verdict lacks the fields the rules read (", json.marshal(object.get(input, ["context", "verdict"], null)), "); it was not built by suture's input builder"]),
	"",
) if {
	not valid_verdict(input.context.verdict)
}

valid_verdict(v) if {
	v.verdict in {"pass", "fail"}
	is_boolean(v.reproduced)
	is_boolean(v.fixed)
	is_boolean(v.testsPassed)
	valid_regression_test(v.regressionTest)
	valid_differential(v.differential)
	valid_status_class(v.fixedStatusClass)
	v.installNetwork in {"isolated", "host", null}
}

valid_regression_test(null)

valid_regression_test(r) if {
	is_boolean(r.failsBefore)
	is_boolean(r.passesAfter)
}

# null: no verdict was given (verdictAssumed); otherwise it says whether healthy traffic was compared.
valid_differential(null)

valid_differential(d) if {
	d.status in {"compared", "none"}
	is_number(d.compared)
	is_number(d.mismatches)
}

valid_status_class(null)

valid_status_class(c) if c in {"2xx", "3xx", "4xx", "mixed"}
