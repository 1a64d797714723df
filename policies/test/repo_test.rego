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
	f := object.union(source_file, {"path": "app/creds", "status": "added", "symlink": {"target": "../../etc/passwd", "escapesRepo": true}})
	"repo/symlink-escape" in ids(with_files([f]))
}

test_symlink_inside_repo_allowed if {
	f := object.union(source_file, {"path": "app/current.py", "status": "added", "additions": 0, "symlink": {"target": "v2.py", "escapesRepo": false}})
	outcome(with_files([f])) == "allow"
}
