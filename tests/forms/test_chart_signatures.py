"""Chart signatures made by the real tools: ``helm package --sign`` with a key GnuPG makes in the test,
and a cosign-format signature (``plugingate sign --key``, as ``cosign sign-blob`` writes it).

The gate's verdict is held against ``helm verify`` and GnuPG's ``gpgv`` (differential), and attacked:
the archive changed after signing, another key, a provenance of another chart.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.manifests import load_manifests
from plugingate.packaging.forms import PackagingOptions
from plugingate.policy import load_policy
from tests.conftest import run_cli
from tests.forms.conftest import CASES_POLICY, copy_case

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Signer:
    """A GnuPG home with one signing key, and the legacy keyrings Helm reads."""

    home: Path
    name: str
    secring: Path
    pubring: Path


def _gpg(home: Path, *args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def _signer(base: Path, name: str) -> Signer:
    if shutil.which("gpg") is None:
        pytest.skip("GnuPG is not installed (Debian: apt-get install gnupg; scripts/test installs it)")
    home = base / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    uid = f"{name} <{name}@charts.example>"
    _gpg(home, "--quick-generate-key", uid, "rsa2048", "sign", "never")
    # NOTE: Helm reads the legacy keyring format: the secret keys exported to secring.gpg.
    secring, pubring = home / "secring.gpg", home / "pubring.gpg"
    secring.write_bytes(_gpg(home, "--export-secret-keys"))
    pubring.write_bytes(_gpg(home, "--export"))
    return Signer(home, name, secring, pubring)


@pytest.fixture(scope="module")
def signers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Signer, Signer]:
    base = tmp_path_factory.mktemp("signers")
    return _signer(base, "trusted"), _signer(base, "other")


def _helm(helm: Path, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    home = Path("/tmp") / "pg-helm-sig-home"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "c"),
        "HELM_CONFIG_HOME": str(home / "f"),
        "HELM_DATA_HOME": str(home / "d"),
    }
    proc = subprocess.run(
        [str(helm), *map(str, args)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _package(helm: Path, chart: Path, signer: Signer, out: Path) -> Path:
    out.mkdir(exist_ok=True)
    _helm(helm, "package", chart, "--destination", out, "--sign", "--key", signer.name, "--keyring", signer.secring)
    [archive] = list(out.glob("*.tgz"))
    assert (out / f"{archive.name}.prov").is_file()
    return archive


def _bundle(tmp_path: Path, helm: Path, signer: Signer, name: str = "signed") -> tuple[Path, Path]:
    case = copy_case("pass/chart-minimal", tmp_path / name)
    archive = _package(helm, case / "chart", signer, tmp_path / name / "pkg")
    shutil.copyfile(archive, case / archive.name)
    shutil.copyfile(archive.parent / f"{archive.name}.prov", case / f"{archive.name}.prov")
    shutil.rmtree(case / "chart")
    doc = yaml.safe_load((case / "plugin.yaml").read_text())
    doc["spec"]["chart"]["path"] = archive.name
    doc["spec"]["chart"]["signature"] = {"prov": f"{archive.name}.prov"}
    (case / "plugin.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return case, case / archive.name


def _policy(tmp_path: Path, keyring: Path) -> Path:
    doc = yaml.safe_load(CASES_POLICY.read_text())
    doc["spec"]["charts"] = {"keyring": str(keyring), "requireSignature": True}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _chart_findings(case: Path, policy_file: Path) -> list[str]:
    policy = load_policy(policy_file)
    options = PackagingOptions(charts=policy.charts, trusted_signers=policy.signature.trusted_signers)
    manifests = load_manifests(case, load_declaration(case), packaging=options)
    return [f"{f.rule_id} {f.message}" for f in manifests.form_findings]


def _helm_verify(helm: Path, archive: Path, keyring: Path) -> bool:
    return _helm(helm, "verify", "--keyring", keyring, archive, check=False).returncode == 0


def _gpgv(prov: Path, keyring: Path) -> bool:
    proc = subprocess.run(["gpgv", "--keyring", str(keyring), str(prov)], capture_output=True, timeout=60, check=False)
    return proc.returncode == 0


def test_a_chart_signed_by_the_trusted_key_passes(helm: Path, signers: tuple[Signer, Signer], tmp_path: Path) -> None:
    trusted, _ = signers
    case, archive = _bundle(tmp_path, helm, trusted)
    policy = _policy(tmp_path, trusted.pubring)
    assert _chart_findings(case, policy) == []
    assert _helm_verify(helm, archive, trusted.pubring)
    assert _gpgv(archive.parent / f"{archive.name}.prov", trusted.pubring)
    out = tmp_path / "out"
    run = run_cli("gate", case, "--policy", policy, "--out", out, timeout=600)
    assert run.code == 0, run.stderr


def test_the_archive_changed_after_signing_is_denied(
    helm: Path, signers: tuple[Signer, Signer], tmp_path: Path
) -> None:
    trusted, _ = signers
    case, archive = _bundle(tmp_path, helm, trusted)
    # NOTE: the same chart with one more (privileged) template, under the signed file's name.
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            tar.addfile(member, io.BytesIO(data))
        extra = tarfile.TarInfo("chart-minimal/templates/extra.yaml")
        payload = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n"
        extra.size = len(payload)
        tar.addfile(extra, io.BytesIO(payload))
    findings = _chart_findings(case, _policy(tmp_path, trusted.pubring))
    assert [f.split()[0] for f in findings] == ["PG-CHART-005"], findings
    assert not _helm_verify(helm, archive, trusted.pubring)
    # NOTE: GnuPG still accepts the signed text: it is the archive's digest inside it that no longer matches.
    assert _gpgv(archive.parent / f"{archive.name}.prov", trusted.pubring)


def test_a_chart_signed_by_another_key_is_denied(helm: Path, signers: tuple[Signer, Signer], tmp_path: Path) -> None:
    trusted, other = signers
    case, archive = _bundle(tmp_path, helm, other)
    findings = _chart_findings(case, _policy(tmp_path, trusted.pubring))
    assert [f.split()[0] for f in findings] == ["PG-CHART-005"], findings
    assert not _helm_verify(helm, archive, trusted.pubring)
    assert not _gpgv(archive.parent / f"{archive.name}.prov", trusted.pubring)


def test_a_provenance_of_another_chart_is_denied(helm: Path, signers: tuple[Signer, Signer], tmp_path: Path) -> None:
    trusted, _ = signers
    case, archive = _bundle(tmp_path, helm, trusted)
    other = copy_case("deny/chart-hook-privileged", tmp_path / "other")
    other_archive = _package(helm, other / "chart", trusted, tmp_path / "other" / "pkg")
    # NOTE: a valid provenance by the trusted key, but of another chart, renamed to sit beside this one.
    shutil.copyfile(other_archive.parent / f"{other_archive.name}.prov", archive.parent / f"{archive.name}.prov")
    findings = _chart_findings(case, _policy(tmp_path, trusted.pubring))
    assert [f.split()[0] for f in findings] == ["PG-CHART-005"], findings
    assert not _helm_verify(helm, archive, trusted.pubring)


def test_an_unsigned_chart_under_a_policy_that_requires_one_is_denied(
    signers: tuple[Signer, Signer], tmp_path: Path
) -> None:
    trusted, _ = signers
    case = copy_case("pass/chart-minimal", tmp_path)
    findings = _chart_findings(case, _policy(tmp_path, trusted.pubring))
    assert [f.split()[0] for f in findings] == ["PG-CHART-005"], findings


def test_a_cosign_signed_chart_archive(helm: Path, tmp_path: Path) -> None:
    """A chart archive signed as a blob (cosign's format) with a key the policy's trustedSigners hold."""
    case = copy_case("pass/chart-minimal", tmp_path / "c")
    pkg = tmp_path / "pkg"
    _helm(helm, "package", case / "chart", "--destination", pkg)
    [archive] = list(pkg.glob("*.tgz"))
    shutil.copyfile(archive, case / archive.name)
    keys = tmp_path / "keys"
    env = {"PLUGINGATE_PASSWORD": "chart-test"}
    assert run_cli("keygen", "--output-prefix", keys, env=env).code == 0
    signed = run_cli("sign", case / archive.name, "--key", f"{keys}.key", env=env)
    assert signed.code == 0, signed.stderr
    doc = yaml.safe_load((case / "plugin.yaml").read_text())
    doc["spec"]["chart"] = {"path": archive.name, "signature": {"cosign": f"{archive.name}.sig"}}
    (case / "plugin.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    policy_doc = yaml.safe_load(CASES_POLICY.read_text())
    policy_doc["spec"]["signature"]["trustedSigners"] = [{"name": "charts", "key": {"path": f"{keys}.pub"}}]
    policy_doc["spec"]["charts"] = {"requireSignature": True}
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(policy_doc, sort_keys=False))
    assert _chart_findings(case, policy) == []
    # NOTE: one byte more in the archive after signing.
    with (case / archive.name).open("ab") as file:
        file.write(b"\0")
    findings = _chart_findings(case, policy)
    assert [f.split()[0] for f in findings] == ["PG-CHART-005"], findings
