package suture_test

test_added_secret_denied if {
	inp := with_({"secrets": [{"path": "app/cart.py", "line": 4, "kind": "AWS access key id", "redacted": "AKIA... (20 chars)"}]})
	ids(inp) == {"secrets/added"}
	some v in decide(inp).violations
	contains(v.message, "AWS access key id")
}
