package suture_test

test_dependency_change_needs_review if {
	dep := {
		"path": "package.json", "ecosystem": "npm", "file": "manifest",
		"added": [{"name": "left-pad", "version": "^1.3.0"}], "removed": [], "changed": [],
	}
	inp := object.union(with_files([file("package.json", "dependency")]), {"dependencies": [dep]})
	ids(inp) == {"deps/changed"}
	outcome(inp) == "review"
	some v in decide(inp).violations
	contains(v.message, "added: left-pad")
}

test_lockfile_change_needs_review if {
	dep := {"path": "poetry.lock", "ecosystem": "python", "file": "lockfile", "added": [], "removed": [], "changed": []}
	inp := object.union(with_files([file("poetry.lock", "dependency")]), {"dependencies": [dep]})
	some v in decide(inp).violations
	v.id == "deps/changed"
	contains(v.message, "lockfile or metadata edits")
}
