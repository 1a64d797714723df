# Credentials never enter the repository through an automated change.
package suture

deny contains violation(
	"secrets/added",
	sprintf("%s:%d: the change adds what looks like a %s (%s); remove it and rotate the credential", [s.path, s.line, s.kind, s.redacted]),
	s.path,
) if {
	some s in input.secrets
}
