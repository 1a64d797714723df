# Files an automated fix may never touch: pipelines, the policies themselves, protected paths, escaping symlinks.
package suture

deny contains violation(
	"repo/ci-edit",
	concat("", [f.path, " is CI/CD or repository automation (pipelines, actions, CODEOWNERS); automated fixes may not change it - make this edit by hand"]),
	f.path,
) if {
	some f in input.files
	f.kind == "workflow"
}

deny contains violation(
	"repo/policy-edit",
	concat("", [f.path, " is part of the policy gate; a change may not edit the rules that judge it"]),
	f.path,
) if {
	some f in input.files
	f.kind == "policy"
}

deny contains violation(
	"repo/protected-path",
	concat("", [f.path, " matches paths.protected in the policy config; automated fixes may not touch it"]),
	f.path,
) if {
	some f in input.files
	f.protected == true
}

# Links are followed through every link of the head tree; input.symlinks also holds untouched links that a
# change of a link they pass through makes escape.
deny contains symlink_escape(f.path, f.symlink.target) if {
	some f in input.files
	f.symlink.escapesRepo == true
}

deny contains symlink_escape(l.path, l.target) if {
	some l in input.symlinks
	l.escapesRepo == true
}

symlink_escape(path, target) := violation(
	"repo/symlink-escape",
	concat("", [path, " is a symlink to ", target, ", which resolves outside the repository; remove the link"]),
	path,
)

deny contains symlink_unresolved(f.path, f.symlink) if {
	some f in input.files
	is_string(f.symlink.error)
}

deny contains symlink_unresolved(l.path, l) if {
	some l in input.symlinks
	is_string(l.error)
}

symlink_unresolved(path, link) := violation(
	"repo/symlink-unresolved",
	concat("", [path, " is a symlink to ", link.target, " that cannot be resolved inside the repository (", link.error, "); remove the link"]),
	path,
)
