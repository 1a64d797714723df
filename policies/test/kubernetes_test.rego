package suture_test

plain := workload([container({})], {})

test_unchanged_manifest_edit_needs_review if {
	inp := manifest_change([plain], [plain])
	ids(inp) == {"k8s/manifest-changed"}
	outcome(inp) == "review"
}

test_privileged_container_denied if {
	after := workload([container({"securityContext": {"privileged": true}})], {})
	"k8s/privileged" in ids(manifest_change([plain], [after]))
}

test_already_privileged_container_not_flagged_again if {
	p := workload([container({"securityContext": {"privileged": true}})], {})
	not "k8s/privileged" in ids(manifest_change([p], [p]))
}

test_privilege_escalation_denied if {
	after := workload([container({"securityContext": {"allowPrivilegeEscalation": true}})], {})
	"k8s/privilege-escalation" in ids(manifest_change([plain], [after]))
}

test_added_capability_denied if {
	after := workload([container({"securityContext": {"capabilitiesAdd": ["SYS_ADMIN"]}})], {})
	"k8s/privilege-escalation" in ids(manifest_change([plain], [after]))
}

test_harmless_capability_allowed if {
	after := workload([container({"securityContext": {"capabilitiesAdd": ["NET_BIND_SERVICE"]}})], {})
	ids(manifest_change([plain], [after])) == {"k8s/manifest-changed"}
}

test_run_as_root_denied if {
	after := workload([container({"securityContext": {"runAsUser": 0}})], {})
	"k8s/run-as-root" in ids(manifest_change([plain], [after]))
}

test_pod_run_as_root_denied if {
	after := workload([container({})], {"runAsUser": 0})
	"k8s/run-as-root" in ids(manifest_change([plain], [after]))
}

test_host_namespaces_denied if {
	some ns in ["hostNetwork", "hostPID", "hostIPC"]
	after := workload([container({})], {ns: true})
	"k8s/host-namespace" in ids(manifest_change([plain], [after]))
}

test_each_host_namespace_denied if {
	after := workload([container({})], {"hostNetwork": true, "hostPID": true, "hostIPC": true})
	msgs := {v.message | some v in decide(manifest_change([plain], [after])).violations; v.id == "k8s/host-namespace"}
	count(msgs) == 3
}

test_new_container_port_denied if {
	after := workload([container({"ports": [{"port": 8080, "hostPort": null, "protocol": "TCP"}, {"port": 9090, "hostPort": null, "protocol": "TCP"}]})], {})
	"k8s/new-port" in ids(manifest_change([plain], [after]))
}

test_host_port_denied if {
	after := workload([container({"ports": [{"port": 8080, "hostPort": 8080, "protocol": "TCP"}]})], {})
	"k8s/new-port" in ids(manifest_change([plain], [after]))
}

svc(type, ports) := resource("Service", "cart", {"service": {"type": type, "ports": ports}})

test_nodeport_service_denied if {
	ports := [{"port": 80, "protocol": "TCP", "nodePort": null}]
	"k8s/service-exposed" in ids(manifest_change([svc("ClusterIP", ports)], [svc("NodePort", ports)]))
}

test_loadbalancer_service_denied if {
	ports := [{"port": 80, "protocol": "TCP", "nodePort": null}]
	inp := manifest_change([svc("ClusterIP", ports)], [svc("LoadBalancer", ports)])
	ids(inp) == {"k8s/service-exposed", "k8s/manifest-changed"}
}

test_new_service_port_denied if {
	before := svc("ClusterIP", [{"port": 80, "protocol": "TCP", "nodePort": null}])
	after := svc("ClusterIP", [{"port": 80, "protocol": "TCP", "nodePort": null}, {"port": 443, "protocol": "TCP", "nodePort": null}])
	"k8s/new-port" in ids(manifest_change([before], [after]))
}

role(kind, rules) := resource(kind, "cart", {"rbac": {"clusterScoped": startswith(kind, "Cluster"), "rules": rules, "roleRef": null}})

rule(groups, resources, verbs) := {"apiGroups": groups, "resources": resources, "verbs": verbs, "nonResourceURLs": []}

test_rbac_wildcard_denied if {
	before := role("Role", [rule([""], ["configmaps"], ["get"])])
	after := role("Role", [rule([""], ["configmaps"], ["*"])])
	"k8s/rbac-wildcard" in ids(manifest_change([before], [after]))
}

test_existing_rbac_wildcard_not_flagged if {
	r := role("Role", [rule([""], ["*"], ["get"])])
	not "k8s/rbac-wildcard" in ids(manifest_change([r], [r]))
}

test_new_cluster_role_denied if {
	after := role("ClusterRole", [rule([""], ["pods"], ["get"])])
	"k8s/cluster-role-added" in ids(manifest_change([], [after]))
}

test_networkpolicy_deleted_denied if {
	np := resource("NetworkPolicy", "cart-ingress", {"apiVersion": "networking.k8s.io/v1"})
	"k8s/networkpolicy-deleted" in ids(manifest_change([plain, np], [plain]))
}

test_networkpolicy_moved_between_files_allowed if {
	np := resource("NetworkPolicy", "cart-ingress", {"apiVersion": "networking.k8s.io/v1"})
	inp := with_({
		"files": array.concat(clean.files, [file("deploy/a.yaml", "manifest"), file("deploy/b.yaml", "manifest")]),
		"kubernetes": [
			{"path": "deploy/a.yaml", "status": "modified", "before": [np], "after": [], "errors": [], "templated": false},
			{"path": "deploy/b.yaml", "status": "modified", "before": [], "after": [np], "errors": [], "templated": false},
		],
	})
	not "k8s/networkpolicy-deleted" in ids(inp)
}

sa(identity) := resource("ServiceAccount", "cart", {"identity": identity})

test_identity_annotation_change_denied if {
	before := sa({"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/cart"})
	after := sa({"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/admin"})
	"k8s/identity-changed" in ids(manifest_change([before], [after]))
}

test_identity_annotation_added_denied if {
	after := sa({"iam.gke.io/gcp-service-account": "cart@proj.iam.gserviceaccount.com"})
	"k8s/identity-changed" in ids(manifest_change([sa({})], [after]))
}

test_identity_resource_deleted_denied if {
	before := sa({"azure.workload.identity/client-id": "abc"})
	"k8s/identity-changed" in ids(manifest_change([before], []))
}

test_unchanged_identity_not_flagged if {
	s := sa({"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/cart"})
	not "k8s/identity-changed" in ids(manifest_change([s], [s]))
}

test_registry_change_denied if {
	after := workload([container({"image": "evil.example.net/cart:1.0", "registry": "evil.example.net"})], {})
	"image/registry-changed" in ids(manifest_change([plain], [after]))
}

test_tag_bump_same_registry_only_reviewed if {
	after := workload([container({"image": "registry.example.com/shop/cart:1.1"})], {})
	ids(manifest_change([plain], [after])) == {"k8s/manifest-changed"}
}

test_registry_allow_list_denies_other_images if {
	after := workload([container({"image": "docker.io/library/redis:7", "registry": "docker.io"})], {})
	inp := object.union(manifest_change([plain], [after]), {"config": {"images": {"allowedRegistries": ["registry.example.com/"]}}})
	"image/registry-not-allowed" in ids(inp)
}

test_registry_allow_list_accepts_listed_images if {
	after := workload([container({"image": "registry.example.com/shop/cart:2.0"})], {})
	inp := object.union(manifest_change([plain], [after]), {"config": {"images": {"allowedRegistries": ["registry.example.com/"]}}})
	not "image/registry-not-allowed" in ids(inp)
}

test_unparseable_manifest_denied if {
	inp := with_({
		"files": array.concat(clean.files, [file("deploy/cart.yaml", "manifest")]),
		"kubernetes": [{"path": "deploy/cart.yaml", "status": "modified", "before": [], "after": [], "errors": ["bad indentation"], "templated": false}],
	})
	"k8s/unparseable" in ids(inp)
}

netpol(all_ingress) := resource("NetworkPolicy", "cart-ingress", {"networkPolicy": {
	"podSelector": {"app": "cart"}, "policyTypes": ["Ingress"], "ingressRules": 1, "egressRules": 0,
	"allowsAllIngress": all_ingress, "allowsAllEgress": false,
}})

test_networkpolicy_opened_to_all_denied if {
	"k8s/networkpolicy-loosened" in ids(manifest_change([netpol(false)], [netpol(true)]))
}

test_networkpolicy_already_open_not_flagged if {
	ids(manifest_change([netpol(true)], [netpol(true)])) == {"k8s/manifest-changed"}
}

test_unparseable_template_needs_review if {
	inp := with_({
		"files": array.concat(clean.files, [file("ops/chart/templates/app.yaml", "manifest")]),
		"kubernetes": [{"path": "ops/chart/templates/app.yaml", "status": "modified", "before": [], "after": [], "errors": ["duplicate key"], "templated": true}],
	})
	ids(inp) == {"k8s/template-unjudged", "k8s/manifest-changed"}
	outcome(inp) == "review"
}

test_manifest_without_templated_flag_is_denied if {
	inp := with_({
		"files": array.concat(clean.files, [file("deploy/cart.yaml", "manifest")]),
		"kubernetes": [{"path": "deploy/cart.yaml", "status": "modified", "before": [], "after": [], "errors": []}],
	})
	"input/schema" in ids(inp)
}
