# Kubernetes manifests: each input.kubernetes entry holds the resources of one changed YAML file
# before and after the change. A rule fires only on what the change introduces.
package suture

exposing_service_types := {"NodePort", "LoadBalancer"}

# Capabilities a container may add without review; any other added capability escalates privilege.
harmless_capabilities := {"NET_BIND_SERVICE"}

host_namespaces := ["hostNetwork", "hostPID", "hostIPC"]

after_containers contains [m, r, c] if {
	some m in input.kubernetes
	some r in m.after
	some c in r.pod.containers
}

before_container(m, id, name) := [c |
	some b in m.before
	b.id == id
	some c in b.pod.containers
	c.name == name
]

had_container_setting(m, id, name, field, value) if {
	some c in before_container(m, id, name)
	c.securityContext[field] == value
}

had_resource(m, id) if {
	some b in m.before
	b.id == id
}

had_pod_setting(m, id, field, value) if {
	some b in m.before
	b.id == id
	b.pod[field] == value
}

deny contains violation(
	"k8s/privileged",
	sprintf("container %s in %s becomes privileged; drop securityContext.privileged", [c.name, r.id]),
	m.path,
) if {
	some [m, r, c] in after_containers
	c.securityContext.privileged == true
	not had_container_setting(m, r.id, c.name, "privileged", true)
}

deny contains violation(
	"k8s/privilege-escalation",
	sprintf("container %s in %s allows privilege escalation; set allowPrivilegeEscalation: false", [c.name, r.id]),
	m.path,
) if {
	some [m, r, c] in after_containers
	c.securityContext.allowPrivilegeEscalation == true
	not had_container_setting(m, r.id, c.name, "allowPrivilegeEscalation", true)
}

deny contains violation(
	"k8s/privilege-escalation",
	sprintf("container %s in %s adds capability %s; remove it from securityContext.capabilities.add", [c.name, r.id, cap]),
	m.path,
) if {
	some [m, r, c] in after_containers
	some cap in c.securityContext.capabilitiesAdd
	not cap in harmless_capabilities
	not had_capability(m, r.id, c.name, cap)
}

had_capability(m, id, name, cap) if {
	some c in before_container(m, id, name)
	cap in c.securityContext.capabilitiesAdd
}

deny contains violation(
	"k8s/run-as-root",
	sprintf("container %s in %s now runs as root (runAsUser: 0); run it as a non-root user", [c.name, r.id]),
	m.path,
) if {
	some [m, r, c] in after_containers
	c.securityContext.runAsUser == 0
	not had_container_setting(m, r.id, c.name, "runAsUser", 0)
}

deny contains violation(
	"k8s/run-as-root",
	sprintf("the pod of %s now runs as root (runAsUser: 0); run it as a non-root user", [r.id]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	r.pod.runAsUser == 0
	not had_pod_setting(m, r.id, "runAsUser", 0)
}

deny contains violation(
	"k8s/host-namespace",
	sprintf("%s sets %s: true, sharing the node's namespace; remove it", [r.id, ns]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	some ns in host_namespaces
	r.pod[ns] == true
	not had_pod_setting(m, r.id, ns, true)
}

deny contains violation(
	"k8s/service-exposed",
	sprintf("Service %s becomes type %s, exposing it outside the cluster; keep it ClusterIP", [r.id, r.service.type]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	r.service.type in exposing_service_types
	not had_service_type(m, r.id, r.service.type)
}

had_service_type(m, id, type) if {
	some b in m.before
	b.id == id
	b.service.type == type
}

deny contains violation(
	"k8s/new-port",
	sprintf("container %s in %s opens port %s that it did not expose before; ports are a platform decision", [c.name, r.id, port_text(p)]),
	m.path,
) if {
	some [m, r, c] in after_containers
	some p in c.ports
	not had_container_port(m, r.id, c.name, p)
}

had_container_port(m, id, name, p) if {
	some c in before_container(m, id, name)
	p in c.ports
}

deny contains violation(
	"k8s/new-port",
	sprintf("Service %s exposes port %s that it did not expose before; ports are a platform decision", [r.id, port_text(p)]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	some p in r.service.ports
	not had_service_port(m, r.id, p)
}

had_service_port(m, id, p) if {
	some b in m.before
	b.id == id
	p in b.service.ports
}

port_text(p) := sprintf("%s/%s", [format_int(p.port, 10), p.protocol])

deny contains violation(
	"k8s/rbac-wildcard",
	sprintf("%s grants a wildcard rule (apiGroups %s, resources %s, verbs %s); list the exact resources and verbs", [r.id, concat(",", rule.apiGroups), concat(",", rule.resources), concat(",", rule.verbs)]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	some rule in r.rbac.rules
	has_wildcard(rule)
	not had_rbac_rule(m, r.id, rule)
}

has_wildcard(rule) if {
	some field in ["apiGroups", "resources", "verbs", "nonResourceURLs"]
	some x in rule[field]
	contains(x, "*")
}

had_rbac_rule(m, id, rule) if {
	some b in m.before
	b.id == id
	rule in b.rbac.rules
}

deny contains violation(
	"k8s/cluster-role-added",
	sprintf("the change creates cluster-scoped RBAC object %s; cluster permissions are granted by hand", [r.id]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	r.kind in {"ClusterRole", "ClusterRoleBinding"}
	not had_resource(m, r.id)
}

# Compared across all changed files, so moving a NetworkPolicy to another file is not a deletion.
deny contains violation(
	"k8s/networkpolicy-deleted",
	sprintf("NetworkPolicy %s is deleted, opening traffic it blocked; keep it", [b.id]),
	m.path,
) if {
	some m in input.kubernetes
	some b in m.before
	b.kind == "NetworkPolicy"
	not exists_after(b.id)
}

exists_after(id) if {
	some m in input.kubernetes
	some a in m.after
	a.id == id
}

deny contains violation(
	"k8s/identity-changed",
	sprintf("%s changes cloud identity annotations (%s); IAM and workload identity are changed by hand", [r.id, concat(", ", changed)]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	changed := identity_changes(m, r)
	count(changed) > 0
}

identity_changes(m, r) := {k |
	after := {[k2, v] | some k2, v in r.identity}
	before := {[k2, v] | some b in m.before; b.id == r.id; some k2, v in b.identity}
	some pair in ((after - before) | (before - after))
	k := pair[0]
}

deny contains violation(
	"k8s/identity-changed",
	sprintf("%s with cloud identity annotations (%s) is deleted; IAM and workload identity are changed by hand", [b.id, concat(", ", object.keys(b.identity))]),
	m.path,
) if {
	some m in input.kubernetes
	some b in m.before
	count(b.identity) > 0
	not exists_after(b.id)
}

deny contains violation(
	"image/registry-changed",
	sprintf("container %s in %s moves from registry %s to %s; images come from the approved registry only", [c.name, r.id, old.registry, c.registry]),
	m.path,
) if {
	some [m, r, c] in after_containers
	some old in before_container(m, r.id, c.name)
	old.registry != c.registry
}

deny contains violation(
	"k8s/unparseable",
	sprintf("%s could not be parsed as Kubernetes YAML (%s); the gate cannot judge it", [m.path, e]),
	m.path,
) if {
	some m in input.kubernetes
	some e in m.errors
}

review contains violation(
	"k8s/manifest-changed",
	sprintf("%s is a deployment manifest; a human must approve manifest changes", [m.path]),
	m.path,
) if {
	some m in input.kubernetes
}

deny contains violation(
	"image/registry-not-allowed",
	sprintf("container %s in %s uses image %s, outside images.allowedRegistries (%s)", [c.name, r.id, c.image, concat(", ", allowed_registries)]),
	m.path,
) if {
	some [m, r, c] in after_containers
	is_string(c.image)
	not image_allowed(c.image)
	not had_image(m, r.id, c.name, c.image)
}

had_image(m, id, name, image) if {
	some old in before_container(m, id, name)
	old.image == image
}

image_allowed(_) if count(allowed_registries) == 0

image_allowed(image) if strings.any_prefix_match(image, allowed_registries)
