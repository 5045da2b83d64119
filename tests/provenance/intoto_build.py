"""Build in-toto layouts and links for tests, signed with keys generated at run time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec


@dataclass
class Party:
    """A key owner: the private key, its in-toto signer and key dict, and a PEM public key file."""

    signer: Any
    keydict: dict[str, Any]
    keyid: str
    pub_path: Path


def party(tmp: Path, name: str) -> Party:
    from securesystemslib.signer import CryptoSigner, SSlibKey

    from plugingate.keys import public_pem

    private = ec.generate_private_key(ec.SECP256R1())
    key = SSlibKey.from_crypto(private.public_key())
    data = key.to_dict()
    data["keyid"] = key.keyid
    pub = tmp / f"{name}.pub"
    pub.write_bytes(public_pem(private.public_key()))
    return Party(CryptoSigner(private, public_key=key), data, key.keyid, pub)


def write_layout(
    path: Path,
    owner: Party,
    functionaries: list[Party],
    *,
    expires: str | None = None,
    threshold: int = 1,
    product_rules: list[list[str]] | None = None,
    inspections: list[dict[str, Any]] | None = None,
) -> None:
    from in_toto.models.layout import Inspection, Layout, Step
    from in_toto.models.metadata import Metablock

    layout = Layout()
    if expires is None:
        layout.set_relative_expiration(days=30)
    else:
        layout.expires = expires
    layout.keys = {f.keyid: f.keydict for f in functionaries}
    step = Step(name="build")
    step.pubkeys = [f.keyid for f in functionaries]
    step.threshold = threshold
    step.expected_products = product_rules or [["CREATE", "plugin.tgz"], ["DISALLOW", "*"]]
    layout.steps = [step]
    for spec in inspections or []:
        inspection = Inspection(name=spec["name"])
        inspection.set_run_from_string(spec["run"])
        layout.inspect.append(inspection)
    meta = Metablock(signed=layout)
    meta.create_signature(owner.signer)
    meta.dump(str(path))


def write_link(links: Path, workdir: Path, functionary: Party, products: list[str], name: str = "build") -> Path:
    from in_toto.runlib import in_toto_run

    # NOTE: in_toto_run writes the signed link itself, into metadata_directory (else the cwd).
    in_toto_run(
        name,
        [],
        products,
        [],
        signer=functionary.signer,
        base_path=str(workdir),
        record_streams=False,
        metadata_directory=str(links),
    )
    out = links / f"{name}.{functionary.keyid[:8]}.link"
    assert out.is_file(), f"in-toto wrote no link at {out}"
    return out
