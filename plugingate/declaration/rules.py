"""Rules of the declaration step. An invalid plugin.yaml is an input error (exit 2), not a finding."""

from plugingate.findings import Rule, Step

RULES: tuple[Rule, ...] = (
    Rule(
        "PG-DEC-001",
        Step.DECLARATION,
        "Declared source repository differs from the provenance",
        "metadata.source in plugin.yaml names another repository than the one the provenance says the "
        "bundle was built from.",
    ),
)
