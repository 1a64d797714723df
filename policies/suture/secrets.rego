# Credentials never enter the repository through an automated change.
package suture

deny contains violation(
	"secrets/added",
	concat("", [s.path, ":", format_int(s.line, 10), ": the change adds what looks like a ", s.kind, " (", s.redacted, "); remove it and rotate the credential"]),
	s.path,
) if {
	some s in input.secrets
}
