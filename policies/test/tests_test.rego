package suture_test

test_deleted_test_file_denied if {
	f := object.union(regression_file, {"path": "tests/test_checkout.py", "status": "deleted", "additions": 0, "deletions": 30})
	"tests/deleted" in ids(with_files([f]))
}

test_removed_assertion_denied if {
	inp := with_({"tests": {"removedAssertions": [{"path": "tests/test_cart.py", "line": 12, "text": "assert total == 0"}]}})
	ids(inp) == {"tests/assertion-removed"}
	some v in decide(inp).violations
	contains(v.message, "tests/test_cart.py:12")
}

test_added_skip_denied if {
	inp := with_({"tests": {"addedSkips": [{"path": "tests/test_cart.py", "line": 3, "text": "@pytest.mark.skip"}]}})
	ids(inp) == {"tests/skip-added"}
}
