"""ACME appliance exporter: serves Prometheus metrics and pushes a daily summary to the ACME API."""

from __future__ import annotations

import argparse
import configparser
import os
import time

import requests
from prometheus_client import Gauge, start_http_server

UP = Gauge("acme_appliance_up", "Whether the appliance answered its last poll", ["appliance"])
TEMPERATURE = Gauge("acme_appliance_temperature_celsius", "Appliance temperature", ["appliance"])


def poll(base: str, token: str, appliance: str) -> None:
    """Read one appliance's status from the ACME API and update its gauges."""
    try:
        reply = requests.get(
            f"{base}/appliances/{appliance}/status", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        reply.raise_for_status()
        TEMPERATURE.labels(appliance).set(float(reply.json()["temperature"]))
        UP.labels(appliance).set(1)
    except (requests.RequestException, KeyError, ValueError):
        UP.labels(appliance).set(0)


def push_summary(base: str, token: str, appliances: list[str]) -> None:
    """Send the day's summary; the token comes from the acme-token Secret."""
    summary = {a: UP.labels(a)._value.get() for a in appliances}
    requests.post(f"{base}/summaries", json=summary, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="/etc/acme/exporter.ini")
    args = parser.parse_args()
    config = configparser.ConfigParser()
    config.read(args.config)
    host, port = config["exporter"]["listen"].rsplit(":", 1)
    appliances = [a.strip() for a in config["exporter"]["appliances"].split(",")]
    start_http_server(int(port), addr=host)
    token = os.environ.get("ACME_TOKEN", "")
    last_push = 0.0
    while True:
        for appliance in appliances:
            poll(config["api"]["base"], token, appliance)
        if time.time() - last_push > 24 * 3600:
            push_summary(config["api"]["base"], token, appliances)
            last_push = time.time()
        time.sleep(30)


if __name__ == "__main__":
    main()
