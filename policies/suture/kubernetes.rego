# Kubernetes manifests: each input.kubernetes entry holds the resources of one changed YAML file
# before and after the change. A rule fires only on what the change introduces.
package suture

exposing_service_types := {"NodePort", "LoadBalancer"}

# Capabilities a container may add without review; any other added capability escalates privilege.
harmless_capabilities := {"NET_BIND_SERVICE"}

host_namespaces := ["hostNetwork", "hostPID", "hostIPC"]

# Every container after the change, with its file and resource: built once, iterated by each container rule.
after_containers := [[m, r, c] |
	some m in input.kubernetes
	some r in m.after
	some c in r.pod.containers
]

# The helpers below iterate instead of building collections: in WASM that is what keeps a decision cheap.
had_container_setting(m, id, name, field, value) if {
	some b in m.before
	b.id == id
	some c in b.pod.containers
	c.name == name
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
	concat("", ["container ", c.name, " in ", r.id, " becomes privileged; drop securityContext.privileged"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	c.securityContext.privileged == true
	not had_container_setting(m, r.id, c.name, "privileged", true)
}

deny contains violation(
	"k8s/privilege-escalation",
	concat("", ["container ", c.name, " in ", r.id, " allows privilege escalation; set allowPrivilegeEscalation: false"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	c.securityContext.allowPrivilegeEscalation == true
	not had_container_setting(m, r.id, c.name, "allowPrivilegeEscalation", true)
}

deny contains violation(
	"k8s/privilege-escalation",
	concat("", ["container ", c.name, " in ", r.id, " adds capability ", cap, "; remove it from securityContext.capabilities.add"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	some cap in c.securityContext.capabilitiesAdd
	not cap in harmless_capabilities
	not had_capability(m, r.id, c.name, cap)
}

had_capability(m, id, name, cap) if {
	some b in m.before
	b.id == id
	some c in b.pod.containers
	c.name == name
	cap in c.securityContext.capabilitiesAdd
}

deny contains violation(
	"k8s/run-as-root",
	concat("", ["container ", c.name, " in ", r.id, " now runs as root (runAsUser: 0); run it as a non-root user"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	c.securityContext.runAsUser == 0
	not had_container_setting(m, r.id, c.name, "runAsUser", 0)
}

deny contains violation(
	"k8s/run-as-root",
	concat("", ["the pod of ", r.id, " now runs as root (runAsUser: 0); run it as a non-root user"]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	r.pod.runAsUser == 0
	not had_pod_setting(m, r.id, "runAsUser", 0)
}

deny contains violation(
	"k8s/host-namespace",
	concat("", [r.id, " sets ", ns, ": true, sharing the node's namespace; remove it"]),
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
	concat("", ["Service ", r.id, " becomes type ", r.service.type, ", exposing it outside the cluster; keep it ClusterIP"]),
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
	concat("", ["container ", c.name, " in ", r.id, " opens port ", port_text(p), " that it did not expose before; ports are a platform decision"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	some p in c.ports
	not had_container_port(m, r.id, c.name, p)
}

had_container_port(m, id, name, p) if {
	some b in m.before
	b.id == id
	some c in b.pod.containers
	c.name == name
	p in c.ports
}

deny contains violation(
	"k8s/new-port",
	concat("", ["Service ", r.id, " exposes port ", port_text(p), " that it did not expose before; ports are a platform decision"]),
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

port_text(p) := concat("", [format_int(p.port, 10), "/", p.protocol])

deny contains violation(
	"k8s/rbac-wildcard",
	concat("", [r.id, " grants a wildcard rule (apiGroups ", concat(",", rule.apiGroups), ", resources ", concat(",", rule.resources), ", verbs ", concat(",", rule.verbs), "); list the exact resources and verbs"]),
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
	concat("", ["the change creates cluster-scoped RBAC object ", r.id, "; cluster permissions are granted by hand"]),
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
	concat("", ["NetworkPolicy ", b.id, " is deleted, opening traffic it blocked; keep it"]),
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
	concat("", [r.id, " changes cloud identity annotations (", concat(", ", changed), "); IAM and workload identity are changed by hand"]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	not same_identity(m, r)
	changed := identity_changes(m, r)
	count(changed) > 0
}

# Cheap equality first: most changes leave identity annotations alone.
same_identity(m, r) if {
	some b in m.before
	b.id == r.id
	b.identity == r.identity
}

same_identity(m, r) if {
	count(r.identity) == 0
	not had_resource(m, r.id)
}

identity_changes(m, r) := {k |
	after := {[k2, v] | some k2, v in r.identity}
	before := {[k2, v] | some b in m.before; b.id == r.id; some k2, v in b.identity}
	some pair in ((after - before) | (before - after))
	k := pair[0]
}

deny contains violation(
	"k8s/identity-changed",
	concat("", [b.id, " with cloud identity annotations (", concat(", ", object.keys(b.identity)), ") is deleted; IAM and workload identity are changed by hand"]),
	m.path,
) if {
	some m in input.kubernetes
	some b in m.before
	count(b.identity) > 0
	not exists_after(b.id)
}

deny contains violation(
	"image/registry-changed",
	concat("", ["container ", c.name, " in ", r.id, " moves from registry ", old.registry, " to ", c.registry, "; images come from the approved registry only"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	some b in m.before
	b.id == r.id
	some old in b.pod.containers
	old.name == c.name
	old.registry != c.registry
}

deny contains violation(
	"k8s/unparseable",
	concat("", [m.path, " could not be parsed as Kubernetes YAML (", e, "); the gate cannot judge it"]),
	m.path,
) if {
	some m in input.kubernetes
	m.templated == false
	some e in m.errors
}

# A Helm template that does not parse even with its actions stubbed out: what it renders is unknown.
review contains violation(
	"k8s/template-unjudged",
	concat("", [m.path, " is a template that could not be parsed even with its {{ }} actions stubbed out (", e, "); a human must judge what it renders"]),
	m.path,
) if {
	some m in input.kubernetes
	m.templated == true
	some e in m.errors
}

review contains violation(
	"k8s/manifest-changed",
	concat("", [m.path, " is a deployment manifest; a human must approve manifest changes"]),
	m.path,
) if {
	some m in input.kubernetes
}

deny contains violation(
	"image/registry-not-allowed",
	concat("", ["container ", c.name, " in ", r.id, " uses image ", c.image, ", outside images.allowedRegistries (", concat(", ", allowed_registries), ")"]),
	m.path,
) if {
	some [m, r, c] in after_containers
	is_string(c.image)
	not image_allowed(c.image)
	not had_image(m, r.id, c.name, c.image)
}

had_image(m, id, name, image) if {
	some b in m.before
	b.id == id
	some old in b.pod.containers
	old.name == name
	old.image == image
}

image_allowed(_) if count(allowed_registries) == 0

# Only consulted when an allow-list is configured (a host builtin call is the dearest step of a decision).
image_allowed(image) if {
	count(allowed_registries) > 0
	strings.any_prefix_match(image, allowed_registries)
}

deny contains violation(
	"k8s/networkpolicy-loosened",
	concat("", ["NetworkPolicy ", r.id, " now admits every ", direction, " peer (a rule without from/to); list the peers"]),
	m.path,
) if {
	some m in input.kubernetes
	some r in m.after
	some [direction, field] in [["ingress", "allowsAllIngress"], ["egress", "allowsAllEgress"]]
	r.networkPolicy[field] == true
	not had_network_policy_setting(m, r.id, field)
}

had_network_policy_setting(m, id, field) if {
	some b in m.before
	b.id == id
	b.networkPolicy[field] == true
}
