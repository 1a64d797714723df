# What an allowed change looks like: a verified fix of source files inside the configured source paths,
# with a regression test, small enough to read. Anything else goes to a human.
package suture

source_files := [f | some f in input.files; f.kind == "source"]

source_lines := sum([n | some f in source_files; n := f.additions + f.deletions])

verdict := input.context.verdict

review contains violation(
	"change/large-diff",
	concat("", ["the change touches ", format_int(source_lines, 10), " source lines, above the ", format_int(max_source_lines, 10), " allowed without review (thresholds.maxSourceLines)"]),
	"",
) if {
	source_lines > max_source_lines
}

review contains violation(
	"change/outside-source-paths",
	concat("", [f.path, " is outside the configured source paths (paths.source) or is repository metadata (.gitignore, .dockerignore); a human must approve it"]),
	f.path,
) if {
	some f in input.files
	f.kind == "other"
}

# The gate reads no file above its size cap (nor past its budget for one change), so it cannot tell a secret
# or a privileged manifest in one.
deny contains violation(
	"change/too-large",
	concat("", [f.path, size_text(f), " was not read by the policy gate (it reads files up to 2 MiB, 64 MiB per change), so its content cannot be judged; automated fixes may not touch it"]),
	f.path,
) if {
	some f in input.files
	f.tooLarge == true
}

size_text(f) := concat("", [" (", format_int(f.size, 10), " bytes)"]) if is_number(f.size)

else := ""

review contains violation(
	"change/binary",
	concat("", [f.path, " is a binary file; a human must look at binary changes"]),
	f.path,
) if {
	some f in input.files
	f.binary == true
}

review contains violation(
	"change/no-source-change",
	"the change edits no source file; only source fixes merge without review",
	"",
) if {
	count(source_files) == 0
}

review contains violation(
	"change/no-regression-test",
	"the change adds or edits no test file; an autonomous fix must bring its regression test",
	"",
) if {
	not touches_test
}

touches_test if {
	some f in input.files
	f.isTest == true
	f.status != "deleted"
}

deny contains violation(
	"verify/failed",
	"sandbox verification did not pass; a failed candidate must not be proposed",
	"",
) if {
	not verdict.verdict == "pass"
}

review contains violation(
	"verify/not-reproduced",
	"the sandbox did not reproduce the failure, so the fix is not proven to address it",
	"",
) if {
	verdict.reproduced == false
}

review contains violation(
	"verify/no-regression-test",
	"no regression test was shown to fail before the fix and pass after it",
	"",
) if {
	verdict.verdict == "pass"
	not regression_proven
}

regression_proven if {
	verdict.regressionTest.failsBefore == true
	verdict.regressionTest.passesAfter == true
}

# Without healthy traffic replayed against the fix (none in the incident, its logs or a capture file, or a
# base service that did not answer it), nothing shows the fix leaves the service's other answers unchanged.
review contains violation(
	"verify/no-differential",
	"no healthy request was compared before and after the fix (differential: none), so nothing shows it leaves other answers unchanged; a human must review (healthy samples come from the incident's healthyRequests, 2xx request lines in its logs, or differential.samples in suture.yaml)",
	"",
) if {
	verdict.differential.status == "none"
}

review contains violation(
	"candidate/low-confidence",
	concat("", ["candidate confidence ", json.marshal(input.context.candidate.confidence), " is below ", json.marshal(min_confidence), " (thresholds.minConfidence)"]),
	"",
) if {
	is_number(input.context.candidate.confidence)
	input.context.candidate.confidence < min_confidence
}

# Where the sandbox ran the install step on the host's network (no bridge network on the engine), install
# scripts could reach services on the host's loopback. sandbox.installHostNetwork sets the level.
default install_host_network_level := "review"

install_host_network_level := input.config.sandbox.installHostNetwork if {
	input.config.sandbox.installHostNetwork in {"allow", "review", "deny"}
}

install_host_network_violation := violation(
	"verify/install-host-network",
	"the sandbox ran the install step in the host's network namespace, where it could reach services on the host's loopback; a human must approve (sandbox.installHostNetwork)",
	"",
)

review contains install_host_network_violation if {
	verdict.installNetwork == "host"
	install_host_network_level == "review"
}

deny contains install_host_network_violation if {
	verdict.installNetwork == "host"
	install_host_network_level == "deny"
}
