package suture_test

test_large_diff_needs_review if {
	big := object.union(source_file, {"additions": 30, "deletions": 11})
	inp := with_({"files": [big, regression_file]})
	ids(inp) == {"change/large-diff"}
}

test_diff_at_threshold_allowed if {
	edge := object.union(source_file, {"additions": 30, "deletions": 10})
	outcome(with_({"files": [edge, regression_file]})) == "allow"
}

test_threshold_comes_from_config if {
	inp := with_({"config": {"thresholds": {"maxSourceLines": 2}}})
	"change/large-diff" in ids(inp)
}

test_default_threshold_without_config if {
	inp := json.remove(clean, ["config"])
	outcome(inp) == "allow"
	big := json.remove(with_({"files": [object.union(source_file, {"additions": 41}), regression_file]}), ["config"])
	"change/large-diff" in ids(big)
}

test_file_outside_source_paths_needs_review if {
	"change/outside-source-paths" in ids(with_files([file("docs/runbook.md", "other")]))
}

test_binary_file_needs_review if {
	"change/binary" in ids(with_files([object.union(source_file, {"path": "app/logo.png", "binary": true})]))
}

test_test_only_change_needs_review if {
	ids(with_({"files": [regression_file]})) == {"change/no-source-change"}
}

test_fix_without_test_needs_review if {
	ids(with_({"files": [source_file]})) == {"change/no-regression-test"}
}

test_failed_verdict_denied if {
	inp := with_({"context": {"verdict": {"verdict": "fail"}}})
	"verify/failed" in ids(inp)
	outcome(inp) == "deny"
}

test_missing_verdict_denied if {
	inp := json.remove(clean, ["context/verdict"])
	"verify/failed" in ids(inp)
}

test_not_reproduced_needs_review if {
	ids(with_({"context": {"verdict": {"reproduced": false}}})) == {"verify/not-reproduced"}
}

test_unproven_regression_test_needs_review if {
	ids(with_({"context": {"verdict": {"regressionTest": {"failsBefore": false}}}})) == {"verify/no-regression-test"}
}

test_null_regression_test_needs_review if {
	ids(with_({"context": {"verdict": {"regressionTest": null}}})) == {"verify/no-regression-test"}
}

test_low_confidence_needs_review if {
	ids(with_({"context": {"candidate": {"confidence": 0.2}}})) == {"candidate/low-confidence"}
}

test_unknown_confidence_not_flagged if {
	outcome(with_({"context": {"candidate": {"confidence": null}}})) == "allow"
}

test_too_large_file_denied if {
	big := object.union(source_file, {"path": "app/blob.py", "size": 3145728, "tooLarge": true})
	inp := with_files([big])
	ids(inp) == {"change/too-large"}
	some v in decide(inp).violations
	contains(v.message, "3145728 bytes")
}

test_too_large_deleted_file_denied if {
	gone := object.union(source_file, {"path": "app/blob.py", "status": "deleted", "size": null, "tooLarge": true})
	"change/too-large" in ids(with_files([gone]))
}

test_install_on_host_network_needs_review if {
	inp := with_({"context": {"verdict": {"installNetwork": "host"}}})
	ids(inp) == {"verify/install-host-network"}
	outcome(inp) == "review"
}

test_install_on_host_network_level_from_config if {
	host := {"context": {"verdict": {"installNetwork": "host"}}}
	outcome(object.union(with_(host), {"config": {"sandbox": {"installHostNetwork": "deny"}}})) == "deny"
	outcome(object.union(with_(host), {"config": {"sandbox": {"installHostNetwork": "allow"}}})) == "allow"
	outcome(json.remove(with_(host), ["config/sandbox"])) == "review"
}

test_isolated_or_no_install_allowed if {
	outcome(with_({"context": {"verdict": {"installNetwork": "isolated"}}})) == "allow"
	outcome(with_({"context": {"verdict": {"installNetwork": null}}})) == "allow"
}

test_no_differential_needs_review if {
	inp := with_({"context": {"verdict": {"differential": {"status": "none", "compared": 0, "mismatches": 0}}}})
	ids(inp) == {"verify/no-differential"}
	outcome(inp) == "review"
}

test_compared_differential_and_no_verdict_allowed if {
	outcome(clean) == "allow"
	assumed := with_({"context": {"verdict": {"differential": null, "fixedStatusClass": null}, "verdictAssumed": true}})
	outcome(assumed) == "allow"
}

test_status_class_alone_decides_nothing if {
	every class in ["2xx", "3xx", "4xx", "mixed"] {
		outcome(with_({"context": {"verdict": {"fixedStatusClass": class}}})) == "allow"
	}
}
