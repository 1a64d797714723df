# Files an automated fix may never touch: pipelines, the policies themselves, protected paths, escaping symlinks.
package suture

deny contains violation(
	"repo/ci-edit",
	sprintf("%s is a CI/CD workflow; automated fixes may not change pipelines - make this edit by hand", [f.path]),
	f.path,
) if {
	some f in input.files
	f.kind == "workflow"
}

deny contains violation(
	"repo/policy-edit",
	sprintf("%s is part of the policy gate; a change may not edit the rules that judge it", [f.path]),
	f.path,
) if {
	some f in input.files
	f.kind == "policy"
}

deny contains violation(
	"repo/protected-path",
	sprintf("%s matches paths.protected in the policy config; automated fixes may not touch it", [f.path]),
	f.path,
) if {
	some f in input.files
	f.protected == true
}

deny contains violation(
	"repo/symlink-escape",
	sprintf("%s is a symlink to %s, outside the repository; remove the link", [f.path, f.symlink.target]),
	f.path,
) if {
	some f in input.files
	f.symlink.escapesRepo == true
}
