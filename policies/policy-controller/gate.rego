# The plugingate gate attestation policy for Sigstore policy-controller (Rego, OPA v0 syntax as
# policy-controller evaluates it). `input` is the whole in-toto statement. The same text is embedded
# in clusterimagepolicy-*.yaml; tests check they are identical.
package sigstore

gate := input.predicate

valid_until_ns := time.parse_rfc3339_ns(gate.validUntil)

violations[msg] {
	input.predicateType != "https://plugingate.dev/attestation/gate/v2"
	msg := sprintf("predicate type is %v, expected https://plugingate.dev/attestation/gate/v2", [input.predicateType])
}

violations[msg] {
	gate.passed != true
	msg := sprintf("the plugingate gate denied this image (passed: %v, violations: %v)", [gate.passed, gate.violations])
}

violations[msg] {
	not valid_until_ns
	msg := "the gate attestation has no valid validUntil (RFC 3339)"
}

violations[msg] {
	valid_until_ns <= time.now_ns()
	msg := sprintf("the gate attestation expired at %v: run the gate again", [gate.validUntil])
}

isCompliant = [{"result": count(violations) == 0, "error": concat("; ", violations), "warning": ""}]
