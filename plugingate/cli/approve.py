"""``plugingate approve OLD NEW --key KEY -o approval.json``: sign an approval of NEW's growth over OLD."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import option, policy_option


@click.command("approve")
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The approver's signing key (cosign's encrypted format, or PEM); its public key is in approvals.approvers.",
)
@option(
    "--item",
    "items",
    multiple=True,
    help="A growth item to approve, as plugingate diff prints it; repeatable (default: every growth item).",
)
@option("--approver", required=True, help="Who approves (recorded in the approval).")
@option("--valid-for", default="168h", show_default=True, help="How long the approval holds (e.g. 72h, 30d).")
@option("--reason", help="Why the growth is accepted (recorded).")
@option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@policy_option()
def command(
    old: Path,
    new: Path,
    key: Path,
    items: tuple[str, ...],
    approver: str,
    valid_for: str,
    reason: str | None,
    output: Path,
    policy_path: Path | None,
) -> None:
    """Approve the permission growth of bundle NEW over bundle OLD, for 'gate NEW --previous OLD --approval FILE'.

    The approval is a DSSE-signed in-toto statement naming the plugin, both bundles' sha256, the exact
    items approved, the approver and the expiry. An --item that is not growth of NEW over OLD is an error.
    """
    from datetime import UTC, datetime

    from plugingate.bundle import BundleLimits
    from plugingate.errors import InputError
    from plugingate.files import write_atomic
    from plugingate.growth.approvals import Approval, sign_approval
    from plugingate.growth.compare import compare
    from plugingate.growth.read import read_version
    from plugingate.keys import load_private_key
    from plugingate.packaging.model import PackagingOptions
    from plugingate.policy import load_policy
    from plugingate.units import parse_duration

    try:
        lasting = parse_duration(valid_for)
    except ValueError as exc:
        raise InputError(str(exc), field="--valid-for", hint="e.g. 72h or 30d") from exc
    private = load_private_key(key)
    policy = load_policy(policy_path)
    limits, packaging = BundleLimits.from_policy(policy.bundle), PackagingOptions.from_policy(policy)
    before, after = read_version(old, limits, packaging), read_version(new, limits, packaging)
    if before.footprint.name != after.footprint.name:
        raise InputError(
            f"OLD is plugin {before.footprint.name!r}, NEW is {after.footprint.name!r}",
            hint="an approval is about two versions of one plugin",
        )
    growth = compare(before.footprint, after.footprint)
    ids = [i.id for i in growth.items]
    if not ids:
        raise InputError(
            f"NEW ({after.version}) asks for nothing beyond OLD ({before.version}): there is nothing to approve",
            hint="gate NEW --previous OLD passes without an approval",
        )
    unknown = sorted(set(items) - set(ids))
    if unknown:
        raise InputError(
            f"not growth of NEW over OLD: {', '.join(unknown)}",
            field="--item",
            hint="plugingate diff OLD NEW lists the growth items",
        )
    now = datetime.now(UTC).replace(microsecond=0)
    approval = Approval(
        plugin=after.footprint.name,
        previous_sha256=before.sha256,
        previous_version=before.version,
        bundle_name=after.name,
        bundle_sha256=after.sha256,
        bundle_version=after.version,
        items=tuple(items) if items else tuple(ids),
        approver=approver,
        issued_at=now,
        expires=now + lasting,
        reason=reason,
    )
    envelope = sign_approval(approval, private)
    write_atomic(output, (json.dumps(envelope, sort_keys=True, indent=2) + "\n").encode())
    until = approval.statement()["predicate"]["expires"]
    click.echo(f"{len(approval.items)} growth item(s) approved until {until}: {output}")
