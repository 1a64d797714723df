# Input documents for the policy tests: a clean verified fix, and builders that add one risky fact at a time.
package suture_test

import data.suture

source_file := {
	"path": "app/cart.py", "oldPath": null, "status": "modified", "additions": 3, "deletions": 1,
	"binary": false, "isTest": false, "language": "python", "kind": "source", "protected": false,
	"size": 120, "tooLarge": false, "aliases": [], "symlink": null,
}

regression_file := object.union(source_file, {"path": "tests/test_cart.py", "isTest": true, "kind": "test", "additions": 8, "deletions": 0})

passing_verdict := {
	"verdict": "pass", "reproduced": true, "fixed": true, "fixedStatusClass": "4xx", "testsPassed": true,
	"regressionTest": {"failsBefore": true, "passesAfter": true},
	"differential": {"status": "compared", "compared": 2, "mismatches": 0},
	"installNetwork": "isolated",
}

clean := {
	"schema": 3,
	"base": "base",
	"head": "head",
	"files": [source_file, regression_file],
	"stats": {"files": 2, "additions": 11, "deletions": 1, "sourceLines": 4},
	"kubernetes": [],
	"dockerfiles": [],
	"dependencies": [],
	"symlinks": [],
	"tests": {"removedAssertions": [], "addedSkips": [], "runnerConfig": [], "runnerAccess": [], "processHooks": []},
	"secrets": [],
	"context": {
		"candidate": {"strategy": "template:none-guard", "confidence": 0.9},
		"verdict": passing_verdict,
		"verdictAssumed": false,
		"incident": {"service": "cart-api", "environment": "production", "severity": "critical"},
		"mode": "auto",
	},
	"config": {
		"thresholds": {"maxSourceLines": 40, "minConfidence": 0.5}, "images": {"allowedRegistries": []},
		"sandbox": {"installHostNetwork": "review"},
	},
}

# The clean input with EXTRA merged in (objects merge recursively; arrays are replaced).
with_(extra) := object.union(clean, extra)

with_files(extra) := with_({"files": array.concat(clean.files, extra)})

file(path, kind) := object.union(source_file, {"path": path, "kind": kind, "language": null})

decide(inp) := d if {
	d := suture.decision with input as inp
}

ids(inp) := {v.id | some v in decide(inp).violations}

outcome(inp) := decide(inp).decision

container(extra) := object.union(
	{
		"name": "app", "init": false, "image": "registry.example.com/shop/cart:1.0",
		"registry": "registry.example.com",
		"ports": [{"port": 8080, "hostPort": null, "protocol": "TCP"}],
		"securityContext": {
			"privileged": false, "allowPrivilegeEscalation": false, "runAsUser": null,
			"runAsNonRoot": true, "capabilitiesAdd": [],
		},
	},
	extra,
)

workload(containers, pod_extra) := {
	"id": "Deployment/shop/cart", "apiVersion": "apps/v1", "kind": "Deployment", "name": "cart", "namespace": "shop",
	"identity": {},
	"pod": object.union(
		{
			"hostNetwork": false, "hostPID": false, "hostIPC": false, "runAsUser": null,
			"serviceAccountName": "cart", "containers": containers,
		},
		pod_extra,
	),
	"service": null,
	"rbac": null,
	"networkPolicy": null,
}

resource(kind, name, extra) := object.union(
	{
		"id": sprintf("%s/shop/%s", [kind, name]), "apiVersion": "v1", "kind": kind, "name": name, "namespace": "shop",
		"identity": {}, "pod": null, "service": null, "rbac": null, "networkPolicy": null,
	},
	extra,
)

# A change of deploy/cart.yaml from BEFORE to AFTER resources.
manifest_change(before, after) := with_({
	"files": array.concat(clean.files, [file("deploy/cart.yaml", "manifest")]),
	"kubernetes": [{"path": "deploy/cart.yaml", "status": "modified", "before": before, "after": after, "errors": [], "templated": false}],
})

dockerfile_change(before, after) := with_({
	"files": array.concat(clean.files, [file("Dockerfile", "dockerfile")]),
	"dockerfiles": [{"path": "Dockerfile", "status": "modified", "before": before, "after": after}],
})
