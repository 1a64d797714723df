# Dependency manifests and lockfiles: allowed, but a human looks at supply-chain changes.
package suture

review contains violation(
	"deps/changed",
	sprintf("%s changes dependencies (%s); a human must approve supply-chain changes", [d.path, dependency_summary(d)]),
	d.path,
) if {
	some d in input.dependencies
}

dependency_summary(d) := s if {
	parts := [p |
		some [label, list] in [["added", d.added], ["removed", d.removed], ["changed", d.changed]]
		count(list) > 0
		p := sprintf("%s: %s", [label, concat(", ", [x.name | some x in list])])
	]
	count(parts) > 0
	s := concat("; ", parts)
} else := "lockfile or metadata edits"
