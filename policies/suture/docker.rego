# Dockerfiles: base image registries and the user the final stage runs as.
package suture

root_user(u) if {
	is_string(u)
	name := lower(trim_space(split(u, ":")[0]))
	root_name(name)
}

root_name("root")

root_name(name) if regex.match(`^0+$`, name)

deny contains violation(
	"docker/user-root",
	concat("", [d.path, " makes the image run as ", d.after.user, "; keep a non-root USER"]),
	d.path,
) if {
	some d in input.dockerfiles
	root_user(d.after.user)
	not was_root(d)
}

# A helper, not `not root_user(d.before.user)`: OPA hoists the argument out of the negation, so with no
# before (a new Dockerfile) the rule would never fire.
was_root(d) if root_user(d.before.user)

deny contains violation(
	"docker/user-root",
	concat("", [d.path, " removes USER ", d.before.user, ", so the image runs as root; keep a non-root USER"]),
	d.path,
) if {
	some d in input.dockerfiles
	is_string(d.before.user)
	not root_user(d.before.user)
	d.after != null
	d.after.user == null
}

# A new Dockerfile must name a non-root USER: without one the image runs as root.
deny contains violation(
	"docker/user-root",
	concat("", [d.path, " is a new Dockerfile whose image runs as root (no USER); set a non-root USER"]),
	d.path,
) if {
	some d in input.dockerfiles
	d.before == null
	d.after != null
	d.after.user == null
}

deny contains violation(
	"image/registry-changed",
	concat("", [d.path, " pulls base image ", s.image, " from registry ", s.registry, ", which it did not use before; images come from the approved registry only"]),
	d.path,
) if {
	some d in input.dockerfiles
	some s in d.after.stages
	is_string(s.registry)
	d.before != null
	not used_registry(d.before, s.registry)
}

used_registry(facts, registry) if {
	some s in facts.stages
	s.registry == registry
}

review contains violation(
	"docker/changed",
	concat("", [d.path, " changes how the image is built; a human must approve Dockerfile changes"]),
	d.path,
) if {
	some d in input.dockerfiles
}

deny contains violation(
	"image/registry-not-allowed",
	concat("", [d.path, " builds on ", s.image, ", outside images.allowedRegistries (", concat(", ", allowed_registries), ")"]),
	d.path,
) if {
	some d in input.dockerfiles
	some s in d.after.stages
	is_string(s.registry)
	not image_allowed(s.image)
	not used_image(d.before, s.image)
}

used_image(facts, image) if {
	some s in facts.stages
	s.image == image
}
