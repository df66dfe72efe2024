#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# gen-project.py DIR N: writes a Compose project of N services for the load benchmark: a base
# file, three override files, and a common file the services extend. Deterministic output.
import os
import sys

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "common.yaml"), "w") as f:
        f.write("services:\n  template:\n    image: busybox:latest\n    restart: unless-stopped\n"
                "    environment:\n      COMMON: \"1\"\n    labels:\n      tier: app\n")
    with open(os.path.join(out, "compose.yaml"), "w") as f:
        f.write("x-logging: &logging\n  driver: json-file\n  options:\n    max-size: 10m\n\n")
        f.write("services:\n")
        for i in range(n):
            f.write(f"  svc{i}:\n")
            f.write("    extends:\n      file: common.yaml\n      service: template\n")
            f.write(f"    command: [\"sh\", \"-c\", \"echo {i} && sleep 1000\"]\n")
            f.write(f"    ports: [\"{20000 + i}:80\"]\n")
            f.write(f"    environment:\n      INDEX: \"{i}\"\n      NAME: svc{i}\n")
            f.write(f"    volumes: [\"data{i % 10}:/data\"]\n")
            f.write("    logging: *logging\n")
            if i:
                f.write(f"    depends_on: [svc{i - 1}]\n")
        f.write("volumes:\n")
        for v in range(10):
            f.write(f"  data{v}: {{}}\n")
    for k, (key, val) in enumerate([("environment", "OVERRIDE_{k}: \"yes\""),
                                    ("labels", "override.{k}: \"yes\""),
                                    ("healthcheck", "test: [\"CMD\", \"true\"]")]):
        with open(os.path.join(out, f"override{k + 1}.yaml"), "w") as f:
            f.write("services:\n")
            for i in range(n):
                f.write(f"  svc{i}:\n    {key}:\n      {val.format(k=k)}\n")

main()
