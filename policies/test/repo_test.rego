package suture_test

test_workflow_edit_denied if {
	ids(with_files([file(".github/workflows/deploy.yml", "workflow")])) == {"repo/ci-edit"}
}

test_policy_edit_denied if {
	ids(with_files([file("policies/suture/repo.rego", "policy")])) == {"repo/policy-edit"}
}

test_protected_path_denied if {
	f := object.union(source_file, {"path": "app/billing/charge.py", "protected": true})
	ids(with_files([f])) == {"repo/protected-path"}
}

test_symlink_escaping_repo_denied if {
	f := object.union(source_file, {"path": "app/creds", "status": "added", "symlink": {"target": "../../etc/passwd", "resolved": null, "escapesRepo": true, "error": null}})
	"repo/symlink-escape" in ids(with_files([f]))
}

test_symlink_inside_repo_allowed if {
	f := object.union(source_file, {"path": "app/current.py", "status": "added", "additions": 0, "symlink": {"target": "v2.py", "resolved": "app/v2.py", "escapesRepo": false, "error": null}})
	outcome(with_files([f])) == "allow"
}

test_untouched_link_made_to_escape_denied if {
	inp := with_({"symlinks": [{"path": "x", "target": "sub/d/..", "resolved": null, "escapesRepo": true, "error": null}]})
	ids(inp) == {"repo/symlink-escape"}
	some v in decide(inp).violations
	v.path == "x"
}

test_changed_and_listed_link_reported_once if {
	link := {"target": "../..", "resolved": null, "escapesRepo": true, "error": null}
	f := object.union(source_file, {"path": "app/up", "status": "added", "symlink": link})
	inp := object.union(with_files([f]), {"symlinks": [object.union(link, {"path": "app/up"})]})
	count([v | some v in decide(inp).violations; v.id == "repo/symlink-escape"]) == 1
}

test_unresolvable_symlink_denied if {
	link := {"target": "b", "resolved": null, "escapesRepo": false, "error": "it follows more than 40 links (a loop)"}
	f := object.union(source_file, {"path": "a", "status": "added", "symlink": link})
	inp := with_files([f])
	ids(inp) == {"repo/symlink-unresolved"}
	some v in decide(inp).violations
	contains(v.message, "a loop")
}

test_suture_yaml_is_policy if {
	ids(with_files([file("suture.yaml", "policy")])) == {"repo/policy-edit"}
}
