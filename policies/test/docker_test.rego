package suture_test

stage(image, registry) := {"image": image, "registry": registry, "name": null}

nonroot := {"stages": [stage("registry.example.com/python:3.12", "registry.example.com")], "user": "app"}

test_dockerfile_edit_needs_review if {
	inp := dockerfile_change(nonroot, nonroot)
	ids(inp) == {"docker/changed"}
	outcome(inp) == "review"
}

test_user_root_denied if {
	"docker/user-root" in ids(dockerfile_change(nonroot, object.union(nonroot, {"user": "root"})))
}

test_user_zero_denied if {
	"docker/user-root" in ids(dockerfile_change(nonroot, object.union(nonroot, {"user": "0:0"})))
}

test_user_removed_denied if {
	"docker/user-root" in ids(dockerfile_change(nonroot, object.union(nonroot, {"user": null})))
}

test_base_registry_change_denied if {
	after := {"stages": [stage("docker.io/library/python:3.12", "docker.io")], "user": "app"}
	"image/registry-changed" in ids(dockerfile_change(nonroot, after))
}

test_base_tag_bump_only_reviewed if {
	after := {"stages": [stage("registry.example.com/python:3.13", "registry.example.com")], "user": "app"}
	ids(dockerfile_change(nonroot, after)) == {"docker/changed"}
}

test_new_dockerfile_not_a_registry_change if {
	inp := dockerfile_change(null, nonroot)
	not "image/registry-changed" in ids(inp)
	"docker/changed" in ids(inp)
}

test_new_dockerfile_as_root_denied if {
	"docker/user-root" in ids(dockerfile_change(null, object.union(nonroot, {"user": "root"})))
	"docker/user-root" in ids(dockerfile_change(null, object.union(nonroot, {"user": "00:0"})))
}

test_new_dockerfile_without_user_denied if {
	"docker/user-root" in ids(dockerfile_change(null, object.union(nonroot, {"user": null})))
}

test_dockerfile_that_never_had_a_user_only_reviewed if {
	rootless := object.union(nonroot, {"user": null})
	ids(dockerfile_change(rootless, rootless)) == {"docker/changed"}
}
