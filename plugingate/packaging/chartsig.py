"""A chart archive's signature: a Helm provenance file (OpenPGP) or a cosign signature over the archive.

Helm provenance (``helm package --sign``) is a clear-signed YAML document holding the chart's
Chart.yaml and the archive's sha256. It is verified by the pinned Helm itself (``helm verify
--keyring``: Go's OpenPGP, the code a platform's ``helm install --verify`` runs) against the keyring
the policy names, and the gate then holds the signed text against the archive it renders: the
Chart.yaml name and version in the provenance must be the archive's (a provenance signed for another
chart fails, even under a trusted key). A cosign signature is verified by the same code as a bundle's
(``plugingate.signature``) against the policy's ``trustedSigners`` keys.

Only an archive can be signed: a chart folder with ``spec.chart.signature`` is refused (exit 2).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from plugingate.declaration import Declaration
from plugingate.errors import Error, InputError
from plugingate.findings import Finding, Location
from plugingate.packaging import chart_rules
from plugingate.packaging.chart_scan import read_chart_yaml
from plugingate.packaging.chart_source import ChartCopy, bundle_file, chart_field_line
from plugingate.packaging.helm import helm_env
from plugingate.packaging.model import PackagingOptions
from plugingate.safeyaml import YamlLimits, load_one
from plugingate.tools.locate import Helper
from plugingate.tools.runner import ToolRunner, last_lines

_SIGNED = re.compile(
    r"\A-----BEGIN PGP SIGNED MESSAGE-----\r?\nHash: [A-Za-z0-9]+\r?\n\r?\n"
    r"(?P<body>.*?)\r?\n-----BEGIN PGP SIGNATURE-----",
    re.DOTALL,
)
_MAX_PROV = 1 << 20


def verify_chart_signature(
    root: Path, declaration: Declaration, options: PackagingOptions, copy: ChartCopy
) -> list[Finding]:
    """Findings for a chart signature that does not verify, or a required one that is missing."""
    chart = declaration.chart
    assert chart is not None
    where = Location(declaration.path, chart_field_line(declaration, "signature"))
    if chart.prov is None and chart.cosign_signature is None:
        if options.charts.require_signature:
            return [
                chart_rules.SIGNATURE.finding(
                    f"the chart {copy.shown} is not signed, and the policy requires a signed chart "
                    "(charts.requireSignature); expected spec.chart.signature.prov or .cosign",
                    location=where,
                )
            ]
        return []
    if copy.archive is None:
        raise InputError(
            "a chart folder cannot carry a signature; expected spec.chart.path to name the signed archive (.tgz)",
            path=declaration.path,
            line=chart_field_line(declaration, "signature"),
            field="spec.chart.signature",
        )
    findings: list[Finding] = []
    if chart.prov is not None:
        prov = bundle_file(root, declaration, chart.prov, "spec.chart.signature.prov", "signature", "prov")
        problem = verify_provenance(copy.archive, prov, copy, options)
        if problem:
            findings.append(chart_rules.SIGNATURE.finding(f"{chart.prov}: {problem}", location=where, kind="prov"))
    if chart.cosign_signature is not None:
        sig = bundle_file(
            root, declaration, chart.cosign_signature, "spec.chart.signature.cosign", "signature", "cosign"
        )
        problem = verify_cosign(copy.archive, sig, options)
        if problem:
            findings.append(
                chart_rules.SIGNATURE.finding(f"{chart.cosign_signature}: {problem}", location=where, kind="cosign")
            )
    return findings


def verify_provenance(archive: Path, prov: Path, copy: ChartCopy, options: PackagingOptions) -> str | None:
    """Why the provenance does not verify the archive (None when it does): Helm's verdict, then the chart's name."""
    keyring = options.charts.keyring
    if keyring is None:
        return "the policy names no charts.keyring to verify Helm provenance with"
    if not keyring.is_file():
        raise InputError("the keyring is not a file", path=str(keyring), field="spec.charts.keyring")
    if prov.stat().st_size > _MAX_PROV:
        return f"more than {_MAX_PROV} bytes; not a provenance file"
    runner = options.runner or ToolRunner()
    with tempfile.TemporaryDirectory(prefix="plugingate-chartsig-") as tmp:
        # NOTE: helm verify finds the provenance beside the archive under the archive's name + .prov,
        # and the provenance names the archive's file: the copy keeps the name it has in the bundle.
        target = Path(tmp) / archive.name
        shutil.copyfile(archive, target)
        shutil.copyfile(prov, Path(tmp) / f"{archive.name}.prov")
        shutil.copyfile(keyring, Path(tmp) / "keyring.gpg")
        run = runner.run(
            Helper.HELM,
            ["verify", "--keyring", str(Path(tmp) / "keyring.gpg"), str(target)],
            env=helm_env(),
            timeout=60,
            stdout_limit=1 << 20,
        )
        if run.returncode != 0:
            return f"helm {run.version} does not verify the chart archive: {last_lines(run.stderr, 3)}"
        signed = _signed_body(Path(tmp) / f"{archive.name}.prov")
    if signed is None:
        return "not a clear-signed provenance document"
    # NOTE: helm verify checks the signature and the archive's sha256; the chart the provenance names
    # must also be the archive's own, so a valid provenance of another chart is not taken for this one.
    try:
        doc = load_one(signed.encode("utf-8"), path="provenance", limits=YamlLimits(max_bytes=_MAX_PROV))
    except Error:
        return "the signed Chart.yaml in the provenance is not readable"
    data = doc.data if isinstance(doc.data, dict) else {}
    own = read_chart_yaml(copy.root, copy.shown)
    if str(data.get("name")) != own.name or str(data.get("version")) != own.version:
        return (
            f"the provenance is for chart {data.get('name')!r} {data.get('version')!r}, "
            f"but the archive holds {own.name!r} {own.version!r}"
        )
    return None


def _signed_body(prov: Path) -> str | None:
    """The signed text's first YAML document (the chart's metadata), dash-unescaped."""
    text = prov.read_text(encoding="utf-8", errors="replace")
    found = _SIGNED.match(text)
    if found is None:
        return None
    lines = [line[2:] if line.startswith("- ") else line for line in found.group("body").splitlines()]
    body = "\n".join(lines)
    return body.split("\n...\n", 1)[0]


def verify_cosign(archive: Path, signature: Path, options: PackagingOptions) -> str | None:
    """Why the cosign signature does not verify the archive against the trusted keys (None when it does)."""
    from plugingate.signature.artifact import Artifact
    from plugingate.signature.verify import verify_raw_signature

    try:
        verify_raw_signature(Artifact.from_path(archive), signature, options.trusted_signers)
    except Error as exc:
        return exc.message
    return None
