"""The GitLab vulnerability ids are RFC 4122 version-5 UUIDs, as ``uuid.uuid5`` makes them."""

from __future__ import annotations

import uuid

import pytest

from plugingate.report.gitlab import uuid5

NAMESPACE = uuid.UUID("6f1c1a5e-8d0b-4a53-9a7c-2f3c1b7d9e10")


@pytest.mark.parametrize(
    "name",
    ["", "GHSA-pgjs-7w8x-0001\x00pkg:npm/lodash@4.17.20\x00app/js/package-lock.json", "CVE-2024-1\x00é ü 漢字\x00f"],
)
def test_the_id_is_uuid5_of_the_namespace(name: str) -> None:
    assert uuid5(name) == str(uuid.uuid5(NAMESPACE, name))
