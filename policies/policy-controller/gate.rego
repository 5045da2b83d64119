# The plugingate gate attestation policy for Sigstore policy-controller (Rego, OPA v0 syntax as
# policy-controller evaluates it). `input` is the whole in-toto statement, already verified against the
# authority's key or identity and (by cosign's claim verifier) about the image's own digest. The same
# text is embedded in clusterimagepolicy-*.yaml; tests check they are identical.
#
# The platform edits the two sets below: the sha256 of the reviewed gate policies (empty: not pinned)
# and the revoked bundle or image digests (`plugingate revoke`; policy-controller cannot read a
# ConfigMap, so the list lives here: re-apply the ClusterImagePolicy to quarantine a digest).
package sigstore

pinned_policy_digests := set()

revoked_digests := set()

gate := input.predicate

valid_until_ns := time.parse_rfc3339_ns(gate.validUntil)

violations[msg] {
	input.predicateType != "https://plugingate.dev/attestation/gate/v2"
	msg := sprintf("predicate type is %v, expected https://plugingate.dev/attestation/gate/v2", [input.predicateType])
}

# NOTE: `not x == v` rather than `x != v`: a missing field must deny, and `!=` on it is undefined.
violations[msg] {
	not gate.passed == true
	msg := sprintf("the plugingate gate denied this image (passed: %v, mode: %v, violations: %v)", [object.get(gate, "passed", "missing"), object.get(gate, "mode", "missing"), object.get(gate, "violations", "missing")])
}

violations[msg] {
	not gate.mode == "enforce"
	msg := sprintf("the plugingate gate ran in %v mode, not enforce: its decision vouches for nothing", [object.get(gate, "mode", "missing")])
}

violations[msg] {
	not is_array(gate.violations)
	msg := "the gate attestation lists no violations field"
}

violations[msg] {
	count(gate.violations) > 0
	msg := sprintf("the gate attestation lists violations: %v", [gate.violations])
}

violations[msg] {
	not valid_until_ns
	msg := "the gate attestation has no valid validUntil (RFC 3339)"
}

violations[msg] {
	valid_until_ns <= time.now_ns()
	msg := sprintf("the plugingate gate attestation expired at %v: run the gate again", [gate.validUntil])
}

violations[msg] {
	count(pinned_policy_digests) > 0
	not pinned_policy_digests[gate.policy.sha256]
	msg := sprintf("the gate ran under policy %v sha256:%v, not a pinned one", [gate.policy.name, gate.policy.sha256])
}

violations[msg] {
	some digest
	attested_digests[digest]
	revoked_digests[digest]
	msg := sprintf("%v is revoked", [digest])
}

attested_digests[d] {
	some i, algorithm
	value := input.subject[i].digest[algorithm]
	d := sprintf("%v:%v", [algorithm, value])
}

attested_digests[d] {
	d := sprintf("sha256:%v", [gate.bundle.sha256])
}

isCompliant = [{"result": count(violations) == 0, "error": concat("; ", violations), "warning": ""}]
