# The SLSA Verification Summary (https://slsa.dev/verification_summary/v1) that plugingate emits beside
# its gate attestation, for Sigstore policy-controller (Rego, OPA v0 syntax). `input` is the whole
# in-toto statement. Embedded in clusterimagepolicy-*.yaml as a second authority: an image passes with
# either the gate attestation or this summary. Tests check the embedded copies are identical.
#
# A VSA has no expiry field: its age is bounded by timeVerified and max_age_ns (30 days here; keep it
# no longer than the gate policies' attestation.validFor). The platform edits the sets as in gate.rego.
package sigstore

pinned_policy_digests := set()

revoked_digests := set()

max_age_ns := ((30 * 24) * 3600) * 1000000000

clock_skew_ns := (5 * 60) * 1000000000

vsa := input.predicate

verified_ns := time.parse_rfc3339_ns(vsa.timeVerified)

violations[msg] {
	input.predicateType != "https://slsa.dev/verification_summary/v1"
	msg := sprintf("predicate type is %v, expected https://slsa.dev/verification_summary/v1", [input.predicateType])
}

violations[msg] {
	not vsa.verifier.id == "https://plugingate.dev/gate"
	msg := sprintf("the verification summary comes from %v, not the plugingate gate", [object.get(object.get(vsa, "verifier", {}), "id", "missing")])
}

violations[msg] {
	not vsa.verificationResult == "PASSED"
	msg := sprintf("the plugingate gate did not pass this image (verificationResult: %v)", [object.get(vsa, "verificationResult", "missing")])
}

violations[msg] {
	not verified_ns
	msg := "the verification summary has no valid timeVerified (RFC 3339)"
}

violations[msg] {
	verified_ns + max_age_ns <= time.now_ns()
	msg := sprintf("the verification summary is too old (verified %v): run the gate again", [vsa.timeVerified])
}

violations[msg] {
	verified_ns > time.now_ns() + clock_skew_ns
	msg := sprintf("the verification summary was verified in the future (%v)", [vsa.timeVerified])
}

violations[msg] {
	count(pinned_policy_digests) > 0
	not pinned_policy_digests[vsa.policy.digest.sha256]
	msg := sprintf("the gate ran under policy sha256:%v, not a pinned one", [object.get(object.get(object.get(vsa, "policy", {}), "digest", {}), "sha256", "missing")])
}

violations[msg] {
	some i, algorithm
	value := input.subject[i].digest[algorithm]
	digest := sprintf("%v:%v", [algorithm, value])
	revoked_digests[digest]
	msg := sprintf("%v is revoked", [digest])
}

isCompliant = [{"result": count(violations) == 0, "error": concat("; ", violations), "warning": ""}]
