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

deny contains violation(
	"repo/symlink-escape",
	concat("", [f.path, " is a symlink to ", f.symlink.target, ", outside the repository; remove the link"]),
	f.path,
) if {
	some f in input.files
	f.symlink.escapesRepo == true
}
