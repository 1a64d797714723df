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

test_renamed_test_file_denied if {
	f := object.union(regression_file, {"path": "tests/pricing_check.py", "oldPath": "tests/test_pricing.py", "status": "renamed"})
	inp := with_files([f])
	ids(inp) == {"tests/renamed"}
	some v in decide(inp).violations
	contains(v.message, "tests/test_pricing.py")
}

test_test_file_replaced_by_link_denied if {
	f := object.union(regression_file, {"path": "tests/test_pricing.py", "status": "type-changed"})
	"tests/renamed" in ids(with_files([f]))
}

test_renamed_source_file_allowed if {
	f := object.union(source_file, {"path": "app/prices.py", "oldPath": "app/pricing.py", "status": "renamed"})
	outcome(with_files([f])) == "allow"
}

test_runner_config_change_denied if {
	inp := with_({"tests": {"runnerConfig": [{"path": "conftest.py", "reason": "the change adds conftest.py, which configures the test runner"}]}})
	ids(inp) == {"tests/runner-config"}
	some v in decide(inp).violations
	v.path == "conftest.py"
}

test_runner_access_denied if {
	inp := with_({"tests": {"runnerAccess": [{"path": "app/cart.py", "line": 1, "text": "import _pytest.runner"}]}})
	ids(inp) == {"tests/runner-access"}
	outcome(inp) == "deny"
}

test_process_hook_needs_review if {
	inp := with_({"tests": {"processHooks": [{"path": "app/cart.py", "line": 2, "text": "atexit.register(lambda: os._exit(0))"}]}})
	ids(inp) == {"tests/process-hook"}
	outcome(inp) == "review"
}
