# Dependency manifests and lockfiles: allowed, but a human looks at supply-chain changes.
package suture

review contains violation(
	"deps/changed",
	concat("", [d.path, " changes dependencies (", dependency_summary(d), "); a human must approve supply-chain changes"]),
	d.path,
) if {
	some d in input.dependencies
}

dependency_summary(d) := s if {
	parts := [p |
		some [label, list] in [["added", d.added], ["removed", d.removed], ["changed", d.changed]]
		count(list) > 0
		p := concat("", [label, ": ", concat(", ", [x.name | some x in list])])
	]
	count(parts) > 0
	s := concat("; ", parts)
} else := "lockfile or metadata edits"
